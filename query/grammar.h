// The PEGTL grammar of the kq query language. Included only by query/parser.cc (the one
// translation unit that sees PEGTL). Rules marked "node" appear in the parse tree; see
// parser.cc for how the tree becomes an AST.
//
//   query     := ws source (ws '|' ws operator)* ws eof
//   source    := ('events' | 'archive') ('(' string ')')?
//   operator  := where | project-away | project | extend | summarize | sort | take | top
//              | distinct | count | dedup
//   expr      := and ('or' and)*
//   and       := not ('and' not)*
//   not       := 'not'* comparison
//   comparison:= additive (cmp_op additive | in_tail | between_tail)?
//   additive  := multiplicative (('+'|'-') multiplicative)*
//   multiplicative := unary (('*'|'/'|'%') unary)*
//   unary     := '-'* primary
//   primary   := '(' expr ')' | datetime(...) | literal | call | field
#ifndef KQ_QUERY_GRAMMAR_H_
#define KQ_QUERY_GRAMMAR_H_

#include <tao/pegtl.hpp>

namespace kq::query::grammar {

namespace p = tao::pegtl;

// Lexical.
struct comment : p::seq<p::two<'/'>, p::until<p::eolf>> {};
struct ws : p::star<p::sor<p::space, comment>> {};
struct ident_first : p::ranges<'a', 'z', 'A', 'Z', '_'> {};
struct ident_other : p::ranges<'a', 'z', 'A', 'Z', '0', '9', '_'> {};
struct ident : p::seq<ident_first, p::star<ident_other>> {};
template <typename Str>
struct kw : p::seq<Str, p::not_at<ident_other>> {};

struct kw_and : kw<TAO_PEGTL_STRING("and")> {};
struct kw_or : kw<TAO_PEGTL_STRING("or")> {};
struct kw_not : kw<TAO_PEGTL_STRING("not")> {};  // node
struct kw_by : kw<TAO_PEGTL_STRING("by")> {};
struct kw_asc : kw<TAO_PEGTL_STRING("asc")> {};      // node
struct kw_desc : kw<TAO_PEGTL_STRING("desc")> {};    // node
struct kw_true : kw<TAO_PEGTL_STRING("true")> {};    // node
struct kw_false : kw<TAO_PEGTL_STRING("false")> {};  // node
struct kw_between : kw<TAO_PEGTL_STRING("between")> {};
struct kw_in : kw<TAO_PEGTL_STRING("in")> {};
struct kw_regex : kw<TAO_PEGTL_STRING("regex")> {};

struct word_op
    : p::sor<TAO_PEGTL_STRING("has_cs"), TAO_PEGTL_STRING("has"), TAO_PEGTL_STRING("contains_cs"),
             TAO_PEGTL_STRING("contains"), TAO_PEGTL_STRING("startswith_cs"),
             TAO_PEGTL_STRING("startswith"), TAO_PEGTL_STRING("endswith_cs"),
             TAO_PEGTL_STRING("endswith"), TAO_PEGTL_STRING("matches")> {};
struct keyword : p::seq<p::sor<kw_and, kw_or, kw_not, kw_by, kw_asc, kw_desc, kw_true, kw_false,
                               kw_between, kw_in, p::seq<word_op, p::not_at<ident_other>>>> {};

// Literals.
struct escaped : p::seq<p::one<'\\'>, p::sor<p::one<'"', '\'', '\\', '/', 'n', 't', 'r'>,
                                             p::seq<p::one<'u'>, p::rep<4, p::xdigit>>>> {};
template <char Q>
struct quoted : p::seq<p::one<Q>, p::star<p::sor<escaped, p::not_one<Q, '\\', '\n'>>>, p::one<Q>> {
};
template <char Q>
struct verbatim : p::seq<p::one<'@'>, p::one<Q>, p::star<p::not_one<Q, '\n'>>, p::one<Q>> {};
struct string_lit : p::sor<quoted<'"'>, quoted<'\''>> {};        // node
struct verbatim_lit : p::sor<verbatim<'"'>, verbatim<'\''>> {};  // node
struct digits : p::plus<p::digit> {};
struct exponent : p::seq<p::one<'e', 'E'>, p::opt<p::one<'+', '-'>>, digits> {};
struct timespan_unit
    : p::sor<TAO_PEGTL_STRING("ms"), TAO_PEGTL_STRING("us"), p::one<'d', 'h', 'm', 's'>> {};
struct timespan_lit  // node
    : p::seq<digits, p::opt<p::one<'.'>, digits>, timespan_unit, p::not_at<ident_other>> {};
struct float_lit  // node
    : p::seq<
          p::sor<p::seq<digits, p::one<'.'>, digits, p::opt<exponent>>, p::seq<digits, exponent>>,
          p::not_at<ident_other>> {};
struct int_lit : p::seq<digits, p::not_at<ident_other>> {};                      // node
struct datetime_text : p::plus<p::not_one<')', ' ', '\t', '\n', '"', '\''>> {};  // node
struct datetime_lit                                                              // node
    : p::seq<kw<TAO_PEGTL_STRING("datetime")>, ws, p::one<'('>, ws,
             p::must<p::sor<string_lit, datetime_text>>, ws, p::must<p::one<')'>>> {};

struct expr;
struct additive;

// Fields.
struct elem_ref : p::one<'$'> {};                          // node
struct root_name : p::seq<p::not_at<keyword>, ident> {};   // node
struct step_key : p::seq<p::one<'.'>, p::must<ident>> {};  // node
struct step_each : p::one<'*'> {};                         // node
struct step_index : digits {};                             // node
struct step_string : string_lit {};                        // node
struct step_bracket : p::seq<p::one<'['>, ws, p::must<p::sor<step_each, step_index, step_string>>,
                             ws, p::must<p::one<']'>>> {};
struct root_bracket : p::seq<p::one<'['>, ws, step_string, ws, p::must<p::one<']'>>> {};
struct field : p::seq<p::sor<elem_ref, root_name, root_bracket>,  // node
                      p::star<p::sor<step_key, step_bracket>>> {};

// Calls.
struct fn_name : ident {};  // node
struct call
    : p::seq<fn_name, ws, p::one<'('>, ws,  // node
             p::opt<expr, p::star<ws, p::one<','>, ws, p::must<expr>>>, ws, p::must<p::one<')'>>> {
};

struct paren_expr : p::seq<p::one<'('>, ws, p::must<expr>, ws, p::must<p::one<')'>>> {};
struct primary : p::sor<paren_expr, datetime_lit, timespan_lit, float_lit, int_lit, string_lit,
                        verbatim_lit, kw_true, kw_false, call, field> {};
struct neg_op : p::one<'-'> {};                                                     // node
struct unary : p::seq<p::star<neg_op, ws>, primary> {};                             // node (folded)
struct mul_op : p::one<'*', '/', '%'> {};                                           // node
struct multiplicative : p::seq<unary, p::star<ws, mul_op, ws, p::must<unary>>> {};  // node (folded)
struct add_op : p::one<'+', '-'> {};                                                // node
struct additive                                                                     // node (folded)
    : p::seq<multiplicative, p::star<ws, add_op, ws, p::must<multiplicative>>> {};

struct cmp_op  // node
    : p::sor<TAO_PEGTL_STRING("=="), TAO_PEGTL_STRING("!="), TAO_PEGTL_STRING("<="),
             TAO_PEGTL_STRING(">="), TAO_PEGTL_STRING("=~"), TAO_PEGTL_STRING("!~"), p::one<'<'>,
             p::one<'>'>,
             p::seq<TAO_PEGTL_STRING("matches"), p::not_at<ident_other>, ws, p::must<kw_regex>>,
             p::seq<p::opt<p::one<'!'>>, word_op, p::not_at<ident_other>>> {};
struct in_op : p::seq<p::opt<p::one<'!'>>, TAO_PEGTL_STRING("in"),  // node
                      p::sor<p::one<'~'>, p::not_at<ident_other>>> {};
struct in_tail : p::seq<in_op, ws, p::must<p::one<'('>>, ws, p::must<expr>,  // node
                        p::star<ws, p::one<','>, ws, p::must<expr>>, ws, p::must<p::one<')'>>> {};
struct between_op : p::seq<p::opt<p::one<'!'>>, kw_between> {};  // node
struct range_sep : TAO_PEGTL_STRING("..") {};
struct between_tail : p::seq<between_op, ws, p::must<p::one<'('>>, ws,  // node
                             p::must<additive>, ws, p::must<range_sep>, ws, p::must<additive>, ws,
                             p::must<p::one<')'>>> {};
struct comparison  // node (folded)
    : p::seq<additive,
             p::opt<ws, p::sor<in_tail, between_tail, p::seq<cmp_op, ws, p::must<additive>>>>> {};
struct not_expr : p::seq<p::star<kw_not, ws>, comparison> {};                       // node (folded)
struct and_expr : p::seq<not_expr, p::star<ws, kw_and, ws, p::must<not_expr>>> {};  // node
struct or_expr : p::seq<and_expr, p::star<ws, kw_or, ws, p::must<and_expr>>> {};    // node
struct expr : p::seq<or_expr> {};

// Operators.
struct assign_name : ident {};  // node
struct named_expr               // node
    : p::seq<p::opt<assign_name, ws, p::one<'='>, p::not_at<p::one<'=', '~'>>, ws>, expr> {};
template <typename Item>
struct comma_list : p::seq<Item, p::star<ws, p::one<','>, ws, p::must<Item>>> {};
struct sort_item : p::seq<expr, p::opt<ws, p::sor<kw_asc, kw_desc>>> {};  // node
struct column_name : p::sor<ident, p::seq<p::one<'['>, ws, string_lit, ws, p::one<']'>>> {
};  // node

struct op_where : p::seq<kw<TAO_PEGTL_STRING("where")>, ws, p::must<expr>> {};  // node
struct op_project_away                                                          // node
    : p::seq<kw<TAO_PEGTL_STRING("project-away")>, ws, p::must<comma_list<column_name>>> {};
struct op_project  // node
    : p::seq<kw<TAO_PEGTL_STRING("project")>, ws, p::must<comma_list<named_expr>>> {};
struct op_extend  // node
    : p::seq<kw<TAO_PEGTL_STRING("extend")>, ws, p::must<comma_list<named_expr>>> {};
struct by_clause : p::seq<kw_by, ws, p::must<comma_list<named_expr>>> {};  // node
struct aggregates : comma_list<named_expr> {};                             // node
struct summarize_body : p::sor<by_clause, p::seq<aggregates, p::opt<ws, by_clause>>> {};
struct op_summarize  // node
    : p::seq<kw<TAO_PEGTL_STRING("summarize")>, ws, p::must<summarize_body>> {};
struct op_sort  // node
    : p::seq<p::sor<kw<TAO_PEGTL_STRING("sort")>, kw<TAO_PEGTL_STRING("order")>>, ws,
             p::must<kw_by>, ws, p::must<comma_list<sort_item>>> {};
struct count_arg : int_lit {};  // node
struct op_take                  // node
    : p::seq<p::sor<kw<TAO_PEGTL_STRING("take")>, kw<TAO_PEGTL_STRING("limit")>>, ws,
             p::must<count_arg>> {};
struct op_top  // node
    : p::seq<kw<TAO_PEGTL_STRING("top")>, ws, p::must<count_arg>, ws, p::must<kw_by>, ws,
             p::must<comma_list<sort_item>>> {};
struct op_distinct  // node
    : p::seq<kw<TAO_PEGTL_STRING("distinct")>, ws, p::must<comma_list<named_expr>>> {};
struct op_count : kw<TAO_PEGTL_STRING("count")> {};  // node
struct op_dedup                                      // node
    : p::seq<kw<TAO_PEGTL_STRING("dedup")>, ws, p::must<kw_by>, ws, p::must<comma_list<expr>>> {};
struct operator_ : p::sor<op_where, op_project_away, op_project, op_extend, op_summarize, op_sort,
                          op_take, op_top, op_distinct, op_count, op_dedup> {};

struct env_name : string_lit {};  // node
struct source_events : kw<TAO_PEGTL_STRING("events")> {};
struct source_archive : kw<TAO_PEGTL_STRING("archive")> {};  // node
struct source : p::seq<p::sor<source_events, source_archive>,
                       p::opt<ws, p::one<'('>, ws, p::must<env_name>, ws, p::must<p::one<')'>>>> {};
struct pipe : p::seq<ws, p::one<'|'>, ws, p::must<operator_>> {};
struct end_of_query : p::eof {};
struct query : p::seq<ws, p::must<source>, p::star<pipe>, ws, p::must<end_of_query>> {};  // node

}  // namespace kq::query::grammar

#endif  // KQ_QUERY_GRAMMAR_H_
