#include "tools/bench/micro/micro_corpus.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "storage/decoder.h"
#include "tools/gen/generator.h"

namespace kq::bench {

const MicroCorpus& GetMicroCorpus(size_t events) {
  static std::map<size_t, std::unique_ptr<MicroCorpus>> cache;
  std::unique_ptr<MicroCorpus>& slot = cache[events];
  if (slot != nullptr) return *slot;
  slot = std::make_unique<MicroCorpus>();
  gen::GenOptions options;
  options.events = events;
  options.seed = 1;
  gen::Generator generator(options);
  storage::Decoder decoder;
  std::string json;
  while (generator.Next(&json)) {
    storage::Event event;
    if (absl::Status s = decoder.DecodeEvent(json, &event); !s.ok()) {
      std::fprintf(stderr, "micro corpus: kq gen event does not decode: %s\n",
                   std::string(s.message()).c_str());
      std::abort();
    }
    slot->json_bytes += json.size();
    slot->lines.push_back(std::move(json));
    slot->events.push_back(std::move(event));
    json.clear();
  }
  return *slot;
}

}  // namespace kq::bench
