#include "tools/kq/session.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "tools/kq/contexts.h"

namespace kq::cli {

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == absl::StatusCode::kUnavailable ? kExitUnavailable : kExitError;
}

absl::StatusOr<Target> Session::Resolve(const std::string& data, const std::string& server,
                                        const std::string& context, const TlsFiles& tls) {
  Target target;
  if (!data.empty() && !server.empty()) {
    return absl::InvalidArgumentError("use either --data DIR or --server HOST:PORT, not both");
  }
  if (!data.empty()) {
    target.data = data;
    return target;
  }
  if (!server.empty()) {
    target.server = server;
    target.tls = tls;
    return target;
  }
  std::string path = ContextConfigPath();
  KQ_ASSIGN_OR_RETURN(ContextConfig config, LoadContexts(path));
  std::string name = context.empty() ? config.current : context;
  if (name.empty()) {
    target.server = kDefaultServer;
    return target;
  }
  const Context* found = config.Find(name);
  if (found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("no context named \"", name, "\" in ", path,
                                                   ": see `kq config get-contexts`"));
  }
  target.data = found->data;
  target.server = found->server;
  target.tls = tls.enabled() ? tls : TlsFiles{found->tls_ca, found->tls_cert, found->tls_key};
  target.context = found->name;
  if (!found->env.empty()) target.env = found->env;
  return target;
}

void Session::Retarget(Target target) {
  backend_.reset();
  target_ = std::move(target);
}

absl::StatusOr<Backend*> Session::backend() {
  if (backend_ == nullptr) {
    if (!target_.data.empty()) {
      KQ_ASSIGN_OR_RETURN(backend_, OpenEmbedded(target_.data));
    } else {
      KQ_ASSIGN_OR_RETURN(backend_, ConnectRemote(target_.server, target_.tls));
    }
  }
  return backend_.get();
}

}  // namespace kq::cli
