// libFuzzer target: any bytes through the decoder must either decode or be quarantined with a
// reason and a detail — never crash, hang, or leave an event half-filled. And the decoder's
// quick schema check must change nothing: a decoder validating every record with RapidJSON's
// validator alone gives the same verdict, reason and detail.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decode/decoder.h"

namespace {
edi::Decoder* decoder = nullptr;  // made once, before the first input, and kept
edi::Decoder* full = nullptr;     // the same without the quick schema check
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto d = edi::Decoder::Create({});
  if (!d.ok()) std::abort();
  decoder = d->release();
  edi::DecoderOptions options;
  options.quick_schema_check = false;
  auto f = edi::Decoder::Create(options);
  if (!f.ok()) std::abort();
  full = f->release();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edi::AccessEvent event;
  edi::DecodeError error;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const bool ok = decoder->Decode(bytes, &event, &error);
  if (ok) {
    if (event.request_id.empty() || event.client.client_id.empty()) std::abort();
  } else if (error.detail.empty()) {
    std::abort();
  }
  edi::AccessEvent full_event;
  edi::DecodeError full_error;
  if (full->Decode(bytes, &full_event, &full_error) != ok) std::abort();
  if (ok &&
      (full_event.request_id != event.request_id || full_event.time != event.time ||
       full_event.action != event.action || full_event.parties.size() != event.parties.size())) {
    std::abort();
  }
  if (!ok && (full_error.reason != error.reason || full_error.detail != error.detail)) std::abort();
  return 0;
}
