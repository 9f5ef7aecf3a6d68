// The store's small lookup tables: the numbers events refer to clients and sources by.
#include <sqlite3.h>

#include <algorithm>

#include "store/store.h"

namespace edi {

Status Store::CachedKey(KeyCache& cache, Statement& find, const std::string& name,
                        const std::function<int()>& insert, int64_t* key) {
  if (cache.last_key != 0 && cache.last_name == name) {
    *key = cache.last_key;
    return Status::OK();
  }
  if (auto it = cache.keys.find(name); it != cache.keys.end()) {
    *key = it->second;
  } else {
    find.Bind(1, name);
    const bool found = find.Step() == SQLITE_ROW;
    if (found) *key = find.ColumnInt(0);
    find.Reset();
    if (!found) {
      if (insert() != SQLITE_DONE) return Status::IOError(LastError());
      *key = sqlite3_last_insert_rowid(db_);
    }
    cache.keys.emplace(name, *key);
  }
  if (*key != 0) {
    cache.last_name = name;
    cache.last_key = *key;
  }
  return Status::OK();
}

Status Store::ClientKey(const ClientClaims& c, int64_t* key) {
  bool inserted = false;
  if (Status s = CachedKey(
          client_keys_, find_client_, c.client_id,
          [&] {
            inserted = true;
            return insert_client_.Bind(1, c.client_id)
                .BindOpt(2, c.client_name)
                .BindOpt(3, c.tenancy)
                .BindOpt(4, c.orgnr_parent)
                .BindOpt(5, c.orgnr_supplier)
                .Run();
          },
          key);
      !s.ok()) {
    return s;
  }
  const bool named = !c.client_name.empty();
  if (named && !(*key == last_named_key_ && c.client_name == last_name_)) {
    // Every name the client's tokens gave, once each (nearly always one per client); the
    // last (client, name) pair answers most calls without a lookup.
    last_named_key_ = *key;
    last_name_ = c.client_name;
    std::vector<std::string>& seen = client_names_seen_[*key];
    if (std::find(seen.begin(), seen.end(), c.client_name) == seen.end()) {
      if (add_client_name_.Bind(1, *key).Bind(2, c.client_name).Run() != SQLITE_DONE) {
        return Status::IOError(LastError());
      }
      seen.push_back(c.client_name);
    }
  }
  if (inserted) {
    if (!named) unnamed_clients_.insert(*key);
  } else if (named && !unnamed_clients_.empty() && unnamed_clients_.erase(*key) > 0) {
    // The first name a token gave, as the state keeps it: a client whose first calls came
    // without one is named by the first that has one.
    if (name_client_.Bind(1, *key).Bind(2, c.client_name).Run() != SQLITE_DONE) {
      return Status::IOError(LastError());
    }
  }
  return Status::OK();
}

Status Store::LoadUnnamedClients() {
  unnamed_clients_.clear();
  Statement st(db_, "SELECT client_key FROM clients WHERE coalesce(client_name, '') = ''");
  if (!st.ok()) return Status::IOError(LastError());
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) unnamed_clients_.insert(st.ColumnInt(0));
  return rc == SQLITE_DONE ? Status::OK() : Status::IOError(LastError());
}

Status Store::SourceKey(const std::string& source, int64_t* key) {
  return CachedKey(
      source_keys_, find_source_, source, [&] { return insert_source_.Bind(1, source).Run(); },
      key);
}

}  // namespace edi
