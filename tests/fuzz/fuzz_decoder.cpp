// libFuzzer target: any bytes through the decoder must either decode or be quarantined with a
// reason and a detail — never crash, hang, or leave an event half-filled.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decode/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static edi::Decoder* decoder = [] {
    auto d = edi::Decoder::Create({});
    if (!d.ok()) std::abort();
    return d->release();
  }();
  edi::AccessEvent event;
  edi::DecodeError error;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (decoder->Decode(bytes, &event, &error)) {
    if (event.request_id.empty() || event.client.client_id.empty()) std::abort();
  } else if (error.detail.empty()) {
    std::abort();
  }
  return 0;
}
