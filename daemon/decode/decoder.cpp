#include "decode/decoder.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "common/json_keys.h"
#include "common/schema.h"
#include "common/schema_quick_check.h"
#include "common/utf8.h"

namespace edi {
namespace {

using rapidjson::Value;

constexpr std::array<std::string_view, kQuarantineReasonCount> kReasonNames = {
    "oversize",
    "invalid_json",
    "schema",
    "bad_timestamp",
    "malformed_her_id",
    "malformed_orgnr",
    "malformed_message_id",
    "malformed_herid_claim",
    "conflicting_duplicate",
    "too_many_parties",
    "duplicate_key",
};

std::string_view Str(const Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::optional<int64_t> Int(const Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

std::optional<bool> Bool(const Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsBool()) return std::nullopt;
  return it->value.GetBool();
}

const Value* Obj(const Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsObject()) return nullptr;
  return &it->value;
}

void IntArray(const Value& obj, const char* key, std::vector<HerId>* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsArray()) return;
  for (const Value& v : it->value.GetArray()) {
    if (v.IsInt64()) out->push_back(v.GetInt64());
  }
}

// Schema violations on HER-Id and organisation-number fields get their own precise reasons.
QuarantineReason ClassifySchemaError(std::string_view field) {
  const size_t slash = field.rfind('/');
  std::string_view last = field.substr(slash == std::string_view::npos ? 0 : slash + 1);
  if (!last.empty() && last.find_first_not_of("0123456789") == std::string_view::npos &&
      slash != std::string_view::npos && slash > 0) {
    // an array item: look at the array's name
    const std::string_view parent = field.substr(0, slash);
    const size_t s2 = parent.rfind('/');
    last = parent.substr(s2 == std::string_view::npos ? 0 : s2 + 1);
  }
  if (last == "orgnrParent" || last == "orgnrChild" || last == "orgnrSupplier") {
    return QuarantineReason::kMalformedOrgnr;
  }
  if (last == "herId" || last == "senderHerId" || last == "receiverHerId" ||
      last == "receiverHerIds" || last == "appRecSenderHerId") {
    return QuarantineReason::kMalformedHerId;
  }
  return QuarantineReason::kSchema;
}

// A record that breaks the schema is validated again by RapidJSON's validator, which recurses
// per level of nesting and walks its whole context stack at each (a line of 100,000 brackets
// would exhaust the stack or take minutes): such a record nested deeper than this is
// quarantined without it. Parsing is iterative, so unknown fields may nest as they like in a
// record that keeps to the schema (the contract allows and ignores them).
constexpr int kMaxNesting = 32;

// Whether the JSON text `s` opens more than kMaxNesting arrays or objects inside one another
// (outside strings); *offset: where the first too deep one opens.
bool NestedTooDeep(std::string_view s, size_t* offset) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) {
        *offset = i;
        return true;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// The first key named twice in an object the decoder reads (the record, client, request,
// response, message, each configuration and each message listed), with the object's place as
// a JSON pointer ("/request"). Which of two values counts is up to the parser (RapidJSON's
// lookups find the first, .NET's serialisers keep the last), so such a record is ambiguous
// about what the call did. Unknown fields are not looked into.
bool DuplicateKeyInRecord(const Value& doc, std::string* where, std::string* name) {
  if (DuplicateKeyIn(doc, name)) {
    *where = "/";
    return true;
  }
  for (const char* part : {"client", "request", "response", "message"}) {
    const Value* obj = Obj(doc, part);
    if (obj == nullptr) continue;
    if (DuplicateKeyIn(*obj, name)) {
      *where = std::string("/") + part;
      return true;
    }
    for (const char* list : {"configurations", "mshConfigurations", "messages"}) {
      auto items = obj->FindMember(list);
      if (items == obj->MemberEnd() || !items->value.IsArray()) continue;
      for (rapidjson::SizeType i = 0; i < items->value.Size(); ++i) {
        if (DuplicateKeyIn(items->value[i], name)) {
          *where = std::string("/") + part + "/" + list + "/" + std::to_string(i);
          return true;
        }
      }
    }
  }
  return false;
}

bool Fail(DecodeError* error, QuarantineReason reason, std::string detail) {
  error->reason = reason;
  error->detail = std::move(detail);
  return false;
}

// A poll item may name its one receiver as `receiverHerId`; the `message` block has only the list
// (EVENTS.md), so there the single form is an unknown field, ignored like any other.
enum class SingleReceiver { kRead, kIgnore };

bool ReadMessageInfo(const Value& m, SingleReceiver single, MessageInfo* out, DecodeError* error) {
  out->id.assign(Str(m, "id"));
  if (!IsUuid(out->id)) {
    return Fail(error, QuarantineReason::kMalformedMessageId,
                "message id '" + std::string(Utf8Prefix(out->id, 64)) + "' is not a UUID");
  }
  for (char& c : out->id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out->sender_her_id = Int(m, "senderHerId");
  IntArray(m, "receiverHerIds", &out->receiver_her_ids);
  out->receivers_listed = !out->receiver_her_ids.empty();
  if (single == SingleReceiver::kRead) {
    if (auto r = Int(m, "receiverHerId")) out->receiver_her_ids.push_back(*r);
  }
  out->business_document_id.assign(Str(m, "businessDocumentId"));
  out->is_apprec = Bool(m, "isAppRec").value_or(false);
  return true;
}

void ReadConfigurations(const Value& req, const char* key, std::vector<MshConfiguration>* out) {
  auto it = req.FindMember(key);
  if (it == req.MemberEnd() || !it->value.IsArray()) return;
  for (const Value& c : it->value.GetArray()) {
    MshConfiguration cfg;
    cfg.her_id = Int(c, "herId").value_or(0);
    cfg.client_locked = Bool(c, "clientLocked");
    if (auto it2 = c.FindMember("receiveNotificationChannel");
        it2 != c.MemberEnd() && it2->value.IsString()) {
      cfg.receive_notification_channel = it2->value.GetString();
    }
    cfg.receive_refused_message_notices = Bool(c, "receiveRefusedMessageNotices");
    out->push_back(std::move(cfg));
  }
}

}  // namespace

std::string_view QuarantineReasonName(QuarantineReason r) {
  return kReasonNames[static_cast<size_t>(r)];
}

struct Decoder::Impl {
  DecoderOptions options;
  std::shared_ptr<const JsonSchema> schema;
  std::unique_ptr<const SchemaQuickCheck> quick;  // null: every record to the full validator
  rapidjson::Document doc;
  std::string in_place;  // a copy of the record, parsed in place
};

Decoder::Decoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Decoder::~Decoder() = default;

Result<std::unique_ptr<Decoder>> Decoder::Create(const DecoderOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto schema = LoadSchema(options.schema_dir.empty() ? SchemaDir() : options.schema_dir,
                           "access-log.schema.json");
  if (!schema.ok()) return schema.status();
  impl->schema = *schema;
  if (options.quick_schema_check) impl->quick = SchemaQuickCheck::Compile(impl->schema->source);
  return std::unique_ptr<Decoder>(new Decoder(std::move(impl)));
}

// Parses `bytes` into impl_->doc while validating it against the schema; false with *error set
// when the record is not JSON or breaks the schema.
bool Decoder::FullyValidated(std::string_view bytes, DecodeError* error) {
  if (size_t deep = 0; NestedTooDeep(bytes, &deep)) {
    return Fail(error, QuarantineReason::kSchema,
                "field '/': nested more than " + std::to_string(kMaxNesting) +
                    " levels deep (at offset " + std::to_string(deep) +
                    ") in a record that breaks the schema");
  }
  rapidjson::MemoryStream ms(bytes.data(), bytes.size());
  rapidjson::SchemaValidatingReader<rapidjson::kParseDefaultFlags, rapidjson::MemoryStream,
                                    rapidjson::UTF8<>>
      reader(ms, *impl_->schema->compiled);
  impl_->doc.Populate(reader);
  const rapidjson::ParseResult& pr = reader.GetParseResult();
  if (pr) return true;
  if (!reader.IsValid()) {
    rapidjson::Document whole;  // the reader's document is incomplete after a failure
    whole.Parse(bytes.data(), bytes.size());
    SchemaViolation v = DescribeViolation(*impl_->schema, reader, whole);
    return Fail(error,
                v.keyword == "required" ? QuarantineReason::kSchema : ClassifySchemaError(v.field),
                std::move(v.detail));
  }
  // RapidJSON's texts are sentences ("Invalid value."): they follow the offset, as the
  // decoder's own say it.
  std::string what = rapidjson::GetParseError_En(pr.Code());
  if (!what.empty() && what.back() == '.') what.pop_back();
  if (!what.empty() && what[0] >= 'A' && what[0] <= 'Z') what[0] = static_cast<char>(what[0] + 32);
  return Fail(error, QuarantineReason::kInvalidJson,
              "Invalid JSON at offset " + std::to_string(pr.Offset()) + ": " + what);
}

bool Decoder::Decode(std::string_view bytes, AccessEvent* e, DecodeError* error) {
  if (DecodeRecord(bytes, e, error)) return true;
  error->call_succeeded = e->status >= 200 && e->status < 300;  // 0 until the status is read
  return false;
}

bool Decoder::DecodeRecord(std::string_view bytes, AccessEvent* e, DecodeError* error) {
  e->Clear();
  if (bytes.size() > impl_->options.max_record_bytes) {
    return Fail(error, QuarantineReason::kOversize,
                "record of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                    std::to_string(impl_->options.max_record_bytes));
  }

  if (size_t bad = 0; !IsValidUtf8(bytes, &bad)) {
    return Fail(error, QuarantineReason::kInvalidJson,
                "Invalid encoding: not UTF-8 at offset " + std::to_string(bad));
  }
  // JSON has no raw NUL byte anywhere (in a string it is escaped); a parser would take one for
  // the end of the text and ignore what follows.
  if (const void* nul = std::memchr(bytes.data(), '\0', bytes.size()); nul != nullptr) {
    return Fail(error, QuarantineReason::kInvalidJson,
                "Invalid JSON: a NUL byte at offset " +
                    std::to_string(static_cast<const char*>(nul) - bytes.data()));
  }
  rapidjson::Document& doc = impl_->doc;
  doc.SetNull();
  doc.GetAllocator().Clear();
  // The quick check vouches for nearly every record; the full validator decides the rest and
  // names the reason of a rejection.
  if (impl_->quick != nullptr) {
    // Parsed in place from a copy, so that strings are not copied once more: the copy ends in
    // the NUL the in-place stream stops at (the record has none of its own, checked above). Like
    // the validating reader's stream, and unlike Document::Parse(str, n), it does not skip a
    // byte-order mark.
    impl_->in_place.assign(bytes);
    rapidjson::InsituStringStream in(impl_->in_place.data());
    doc.ParseStream<rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag,
                    rapidjson::UTF8<>>(in);
    if (doc.HasParseError() || !impl_->quick->CertainlyValid(doc)) {
      doc.SetNull();
      doc.GetAllocator().Clear();
      if (!FullyValidated(bytes, error)) return false;
    }
  } else if (!FullyValidated(bytes, error)) {
    return false;
  }
  if (std::string where, name; DuplicateKeyInRecord(doc, &where, &name)) {
    return Fail(error, QuarantineReason::kDuplicateKey,
                "field '" + where + "': the key '" + std::string(Utf8Prefix(name, 64)) +
                    "' appears twice, so which value counts is ambiguous");
  }
  e->timestamp.assign(Str(doc, "timestamp"));
  auto t = ParseRfc3339(e->timestamp);
  if (!t) {
    return Fail(error, QuarantineReason::kBadTimestamp,
                "field '/timestamp': '" + e->timestamp + "' is not a valid date and time");
  }
  e->time = *t;
  e->request_id.assign(Str(doc, "requestId"));
  const std::string_view api = Str(doc, "apiVersion");
  e->api = api == "3" ? ApiVersion::kV3 : api == "2" ? ApiVersion::kV2 : ApiVersion::kV2vNext;
  e->method.assign(Str(doc, "method"));
  e->path.assign(Str(doc, "path"));
  e->query.assign(Str(doc, "query"));
  e->status = static_cast<int>(Int(doc, "status").value_or(0));
  e->duration_ms = Int(doc, "durationMs");
  e->source_system.assign(Str(doc, "sourceSystem"));
  e->client_ip.assign(Str(doc, "clientIp"));

  const Value& client = doc["client"];
  e->client.client_id.assign(Str(client, "clientId"));
  e->client.client_name.assign(Str(client, "clientName"));
  e->client.tenancy.assign(Str(client, "tenancy"));
  e->client.orgnr_parent.assign(Str(client, "orgnrParent"));
  e->client.orgnr_child.assign(Str(client, "orgnrChild"));
  e->client.orgnr_supplier.assign(Str(client, "orgnrSupplier"));
  // The schema's pattern is checked only up to a NUL byte: "944100001\u0000" passed it.
  for (const auto& [field, value] : {std::pair{"orgnrParent", &e->client.orgnr_parent},
                                     std::pair{"orgnrChild", &e->client.orgnr_child},
                                     std::pair{"orgnrSupplier", &e->client.orgnr_supplier}}) {
    if (value->find('\0') != std::string::npos) {
      return Fail(error, QuarantineReason::kMalformedOrgnr,
                  std::string("field '/client/") + field + "': contains a NUL byte");
    }
  }
  if (auto it = client.FindMember("herIdClaim"); it != client.MemberEnd()) {
    e->client.her_id_claim.emplace(it->value.GetString(), it->value.GetStringLength());
    if (!IsValidHerIdClaim(*e->client.her_id_claim)) {
      return Fail(error, QuarantineReason::kMalformedHerIdClaim,
                  "field '/client/herIdClaim': '" +
                      std::string(Utf8Prefix(*e->client.her_id_claim, 64)) +
                      "' is neither \"0\" nor a hyphen-separated list of HER-Ids");
    }
  }

  if (const Value* req = Obj(doc, "request")) {
    e->sender_her_id = Int(*req, "senderHerId");
    IntArray(*req, "receiverHerIds", &e->receiver_her_ids);
    e->receiver_her_id = Int(*req, "receiverHerId");
    e->apprec_sender_her_id = Int(*req, "appRecSenderHerId");
    e->apprec_status.assign(Str(*req, "appRecStatus"));
    // v3 names the list `configurations`, 2-vNext `mshConfigurations` (EVENTS.md): the gateway
    // reads only its own, so the other one changed nothing.
    ReadConfigurations(*req,
                       e->api == ApiVersion::kV2vNext ? "mshConfigurations" : "configurations",
                       &e->configurations);
  }
  if (const Value* resp = Obj(doc, "response")) {
    e->response_id.assign(Str(*resp, "id"));
    if (auto it = resp->FindMember("messages"); it != resp->MemberEnd() && it->value.IsArray()) {
      for (const Value& m : it->value.GetArray()) {
        MessageInfo info;
        if (!ReadMessageInfo(m, SingleReceiver::kRead, &info, error)) {
          error->detail = "field '/response/messages': " + error->detail;
          return false;
        }
        e->polled.push_back(std::move(info));
      }
    }
  }
  if (const Value* msg = Obj(doc, "message")) {
    MessageInfo info;
    if (!ReadMessageInfo(*msg, SingleReceiver::kIgnore, &info, error)) {
      error->detail = "field '/message/id': " + error->detail;
      return false;
    }
    e->message = std::move(info);
  }
  if (!MatchRoute(e, error)) return false;
  if (e->parties.size() > impl_->options.max_parties_per_call) {
    return Fail(error, QuarantineReason::kTooManyParties,
                "the call names " + std::to_string(e->parties.size()) +
                    " parties; a call may name at most " +
                    std::to_string(impl_->options.max_parties_per_call) +
                    " (decode.max_parties_per_call)");
  }
  // A send creates the message named by response.id (else by the gateway's `message` block);
  // the event is about that message.
  if (e->action == Action::kSend && e->response_id.empty() && e->message) {
    e->message_id = e->message->id;
  } else if (e->action == Action::kSend && !e->response_id.empty()) {
    if (!IsUuid(e->response_id)) {
      return Fail(error, QuarantineReason::kMalformedMessageId,
                  "field '/response/id': '" + std::string(Utf8Prefix(e->response_id, 64)) +
                      "' is not a UUID");
    }
    e->message_id = e->response_id;
    for (char& c : e->message_id)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (e->action == Action::kApprecSend && IsUuid(e->response_id)) {
    // The apprec is a message of its own: kept beside the message it answers, so that the
    // call that sent it is found by its id too. (A response.id that is no UUID is only in the
    // record as received: the call is about the message it answers either way.)
    e->apprec_id = e->response_id;
    for (char& c : e->apprec_id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return true;
}

}  // namespace edi
