// libFuzzer target: any bytes through the decoder must either decode or be quarantined with a
// reason and a detail — never crash, hang, or leave an event half-filled.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decode/decoder.h"

namespace {
edi::Decoder* decoder = nullptr;  // made once, before the first input, and kept
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto d = edi::Decoder::Create({});
  if (!d.ok()) std::abort();
  decoder = d->release();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
