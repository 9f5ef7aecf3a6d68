#include "store/migrations.h"

namespace edi {

const std::vector<std::string_view>& StoreMigrations() {
  static const std::vector<std::string_view> kMigrations = {
      // 0 -> 1: the audit trail.
      R"sql(
CREATE TABLE clients (
  client_key     INTEGER PRIMARY KEY,
  client_id      TEXT NOT NULL UNIQUE,
  client_name    TEXT,
  tenancy        TEXT,
  orgnr_parent   TEXT,
  orgnr_supplier TEXT
);
CREATE TABLE events (
  event_id    INTEGER PRIMARY KEY,
  request_id  TEXT NOT NULL UNIQUE,
  time        INTEGER NOT NULL,      -- event time, ms since the epoch (UTC)
  api         TEXT NOT NULL,         -- '2', '2-vNext', '3'
  method      TEXT NOT NULL,
  route       TEXT,                  -- matched template; NULL for an unknown route
  action      TEXT NOT NULL,
  status      INTEGER NOT NULL,
  client_key  INTEGER NOT NULL REFERENCES clients(client_key),
  orgnr_child TEXT,
  herid_claim TEXT,
  message_id  TEXT,
  duration_ms INTEGER,
  source      TEXT NOT NULL,
  position    INTEGER NOT NULL,
  record      TEXT                   -- the record as received (NULL if not kept)
);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_client_time ON events(client_key, time);
CREATE INDEX events_message ON events(message_id) WHERE message_id IS NOT NULL;
CREATE TABLE event_parties (
  her_id   INTEGER NOT NULL,
  time     INTEGER NOT NULL,
  event_id INTEGER NOT NULL REFERENCES events(event_id),
  origin   TEXT NOT NULL,            -- request, path, query or custody
  PRIMARY KEY (her_id, time, event_id)
) WITHOUT ROWID;
CREATE TABLE quarantine (
  quarantine_id INTEGER PRIMARY KEY,
  source        TEXT NOT NULL,
  position      INTEGER NOT NULL,
  reason        TEXT NOT NULL,
  detail        TEXT NOT NULL,
  size          INTEGER NOT NULL,    -- the record's full size in bytes
  raw           BLOB NOT NULL,       -- the record's bytes, capped
  received_at   INTEGER NOT NULL,    -- wall clock, ms since the epoch
  UNIQUE (source, position)
);
CREATE TABLE source_positions (
  source   TEXT PRIMARY KEY,         -- file:PATH or kafka:TOPIC/PARTITION
  position INTEGER NOT NULL          -- last line (file) or next offset (Kafka) processed
);
CREATE VIEW event_view AS
  SELECT e.event_id, e.request_id,
         strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time,
         e.api, e.method, e.action, e.status, c.client_id, c.client_name, c.orgnr_parent,
         e.message_id,
         (SELECT group_concat(p.her_id) FROM event_parties p
           WHERE p.event_id = e.event_id) AS parties
    FROM events e JOIN clients c USING (client_key);
)sql",
  };
  return kMigrations;
}

}  // namespace edi
