#include "tools/kq/contexts.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "retention/yaml.h"

namespace kq::cli {
namespace {

// A YAML scalar that reads back as the same string.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

[[nodiscard]] absl::StatusOr<Context> ParseContext(const yaml::Node& node) {
  KQ_RETURN_IF_ERROR(
      node.ExpectMap({"name", "server", "data", "env", "tls-ca", "tls-cert", "tls-key"}));
  Context context;
  struct Field {
    const char* key;
    std::string* out;
  };
  for (Field f :
       {Field{"name", &context.name}, Field{"server", &context.server},
        Field{"data", &context.data}, Field{"env", &context.env}, Field{"tls-ca", &context.tls_ca},
        Field{"tls-cert", &context.tls_cert}, Field{"tls-key", &context.tls_key}}) {
    if (const yaml::Node* v = node.Find(f.key)) {
      KQ_ASSIGN_OR_RETURN(*f.out, v->String());
    }
  }
  if (context.name.empty()) return node.Error("a context needs a name");
  if (context.server.empty() == context.data.empty()) {
    return node.Error("a context needs exactly one of server (HOST:PORT) or data (a directory)");
  }
  return context;
}

}  // namespace

const Context* ContextConfig::Find(const std::string& name) const {
  for (const Context& c : contexts) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string ContextConfigPath() {
  if (const char* p = std::getenv("KQ_CONFIG"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) {
    return absl::StrCat(x, "/kq/config.yaml");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home && *home ? home : ".", "/.config/kq/config.yaml");
}

absl::StatusOr<ContextConfig> LoadContexts(const std::string& path) {
  ContextConfig config;
  if (!std::filesystem::exists(path)) return config;
  KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::ParseFile(path));
  if (root.IsNull()) return config;
  KQ_RETURN_IF_ERROR(root.ExpectMap({"current-context", "contexts"}));
  if (const yaml::Node* current = root.Find("current-context")) {
    KQ_ASSIGN_OR_RETURN(config.current, current->String());
  }
  if (const yaml::Node* list = root.Find("contexts"); list && !list->IsNull()) {
    if (!list->IsSequence()) return list->Error("expected a list of contexts");
    for (const yaml::Node& item : list->items()) {
      KQ_ASSIGN_OR_RETURN(Context context, ParseContext(item));
      if (config.Find(context.name) != nullptr) {
        return item.Error(absl::StrCat("context \"", context.name, "\" is defined twice"));
      }
      config.contexts.push_back(std::move(context));
    }
  }
  if (!config.current.empty() && config.Find(config.current) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": current-context \"", config.current,
                                                   "\" is not one of the contexts"));
  }
  return config;
}

absl::Status SaveContexts(const std::string& path, const ContextConfig& config) {
  std::string text;
  if (!config.current.empty())
    absl::StrAppend(&text, "current-context: ", Quote(config.current), "\n");
  text += "contexts:\n";
  for (const Context& c : config.contexts) {
    absl::StrAppend(&text, "  - name: ", Quote(c.name), "\n");
    auto field = [&](const char* key, const std::string& value) {
      if (!value.empty()) absl::StrAppend(&text, "    ", key, ": ", Quote(value), "\n");
    };
    field("server", c.server);
    field("data", c.data);
    field("env", c.env);
    field("tls-ca", c.tls_ca);
    field("tls-cert", c.tls_cert);
    field("tls-key", c.tls_key);
  }
  std::error_code ec;
  std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
  }
  std::filesystem::rename(tmp, target, ec);
  if (ec)
    return absl::PermissionDeniedError(absl::StrCat("cannot replace ", path, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace kq::cli
