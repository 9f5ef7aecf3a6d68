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
      // 1 -> 2: findings (shared/DETECTIONS.md, "Finding record"), one column per field.
      R"sql(
CREATE TABLE findings (
  id              TEXT PRIMARY KEY,     -- 'f-' + 16 hex digits (FindingId)
  rule            TEXT NOT NULL,
  severity        INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),
                                        -- 0 info, 1 low, 2 medium, 3 high, 4 critical
  time            INTEGER NOT NULL,     -- event time of the first occurrence, ms since the epoch
  request_id      TEXT NOT NULL,
  client_id       TEXT,
  client_name     TEXT,
  her_id          INTEGER,              -- NULL when the finding names no party
  message_id      TEXT,
  orgnr_parent    TEXT,
  party_top_orgnr TEXT,
  action          TEXT,
  status          INTEGER NOT NULL,
  summary         TEXT NOT NULL,
  tags            TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
  occurrences     INTEGER NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
  last_seen       INTEGER NOT NULL,     -- event time of the latest repeat, ms since the epoch
  evidence        TEXT NOT NULL DEFAULT '{}',  -- JSON object
  delivered       INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1)),  -- sent to alerts
  repeat_key      TEXT NOT NULL         -- what repeats of it are matched on
);
CREATE INDEX findings_time ON findings(time);
CREATE INDEX findings_rule_time ON findings(rule, time);
CREATE INDEX findings_her_id_time ON findings(her_id, time);
CREATE INDEX findings_client_time ON findings(client_id, time);
CREATE INDEX findings_message ON findings(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX findings_undelivered ON findings(time) WHERE delivered = 0;
CREATE VIEW finding_view AS
  SELECT id, rule,
         CASE severity WHEN 0 THEN 'info' WHEN 1 THEN 'low' WHEN 2 THEN 'medium'
                       WHEN 3 THEN 'high' WHEN 4 THEN 'critical' END AS severity,
         strftime('%Y-%m-%dT%H:%M:%fZ', time / 1000.0, 'unixepoch') AS time,
         request_id, client_id, client_name, her_id, message_id, orgnr_parent, party_top_orgnr,
         action, status, summary, tags, occurrences,
         strftime('%Y-%m-%dT%H:%M:%fZ', last_seen / 1000.0, 'unixepoch') AS last_seen,
         evidence, delivered
    FROM findings;
)sql",
      // 2 -> 3: the reconstruction state (locks, custody, ownership statistics), written in
      // the same transaction as the events that changed it.
      R"sql(
CREATE TABLE state_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE state_clients (
  client_idx INTEGER PRIMARY KEY,    -- the index the blobs below use for a client
  client_id  TEXT NOT NULL UNIQUE
);
CREATE TABLE state_locks (
  her_id               INTEGER PRIMARY KEY,
  holder               TEXT NOT NULL,  -- client_id holding the reservation
  since                INTEGER NOT NULL,
  holder_last_activity INTEGER NOT NULL,
  denied_others        INTEGER NOT NULL,
  stale_reported       INTEGER NOT NULL
);
CREATE TABLE state_messages (
  message_id TEXT PRIMARY KEY,
  last_seen  INTEGER NOT NULL,
  custody    BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE state_parties (
  her_id     INTEGER PRIMARY KEY,
  last_touch INTEGER NOT NULL,
  stats      BLOB NOT NULL
);
CREATE TABLE state_pairs (
  client_idx INTEGER NOT NULL,
  her_id     INTEGER NOT NULL,
  PRIMARY KEY (client_idx, her_id)
) WITHOUT ROWID;
CREATE TABLE state_sweeps (
  client_idx INTEGER PRIMARY KEY,
  first_seen BLOB NOT NULL
);
)sql",
      // 3 -> 4: a layout that writes less per event. A call's parties move into the events
      // row (`parties`, JSON object origin -> HER-Ids) and into `party_events`: one row per
      // (party, hour of event time) listing the event ids of many batches at once, written
      // when enough events gathered, instead of one row per (event, party). The requestId is unique
      // together with the
      // event time (a record seen twice has both), and message ids are indexed after the event
      // time: both indexes grow at their end instead of at random places (a message is looked
      // up within a time range). Sources are numbered. The records as received are kept
      // zstd-compressed, one block per batch. Custody rows are keyed by the minute they were
      // created in, so a batch's custody writes land together.
      R"sql(
CREATE TABLE sources (
  source_key INTEGER PRIMARY KEY,
  source     TEXT NOT NULL UNIQUE      -- file:PATH or kafka:TOPIC/PARTITION
);
INSERT INTO sources (source) SELECT DISTINCT source FROM events ORDER BY source;
CREATE TABLE events_v4 (
  event_id    INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,      -- event time, ms since the epoch (UTC)
  request_id  TEXT NOT NULL,
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
  parties     TEXT NOT NULL DEFAULT '{}',  -- JSON: origin -> HER-Ids, {"query":[8142520]}
  source_key  INTEGER NOT NULL REFERENCES sources(source_key),
  position    INTEGER NOT NULL,
  raw_block   INTEGER,               -- the record as received: bytes [raw_offset, +raw_size) of
  raw_offset  INTEGER,               -- raw_blocks.data once decompressed (NULL if not kept)
  raw_size    INTEGER,
  record      TEXT                   -- the record as received by a database before version 4
);
CREATE TABLE raw_blocks (
  block_id INTEGER PRIMARY KEY,
  records  INTEGER NOT NULL,         -- how many records the block holds
  bytes    INTEGER NOT NULL,         -- their size, uncompressed
  data     BLOB NOT NULL             -- one zstd frame: the records as JSON lines
);
INSERT INTO events_v4
  SELECT e.event_id, e.time, e.request_id, e.api, e.method, e.route, e.action, e.status,
         e.client_key, e.orgnr_child, e.herid_claim, e.message_id, e.duration_ms,
         coalesce((SELECT json_group_object(origin, json(ids))
                     FROM (SELECT p.origin, json_group_array(p.her_id) AS ids
                             FROM event_parties p WHERE p.event_id = e.event_id
                            GROUP BY p.origin)), '{}'),
         (SELECT s.source_key FROM sources s WHERE s.source = e.source), e.position,
         NULL, NULL, NULL, e.record
    FROM events e ORDER BY e.event_id;
CREATE TABLE party_events (
  her_id      INTEGER NOT NULL,
  hour        INTEGER NOT NULL,      -- event time / 3,600,000
  first_event INTEGER NOT NULL,      -- the smallest event id in `events`
  time_from   INTEGER NOT NULL,      -- the earliest and latest event time in `events`
  time_to     INTEGER NOT NULL,
  events      TEXT NOT NULL,         -- JSON array of event ids, ascending
  PRIMARY KEY (her_id, hour, first_event)
) WITHOUT ROWID;
INSERT INTO party_events
  SELECT her_id, time / 3600000, min(event_id), min(time), max(time), json_group_array(event_id)
    FROM (SELECT her_id, time, event_id FROM event_parties ORDER BY her_id, event_id)
   GROUP BY her_id, time / 3600000;
DROP VIEW event_view;
DROP TABLE event_parties;
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;
CREATE UNIQUE INDEX events_time_request ON events(time, request_id);
CREATE INDEX events_client_time ON events(client_key, time);
CREATE INDEX events_time_message ON events(time, message_id) WHERE message_id IS NOT NULL;
CREATE VIEW event_view AS
  SELECT e.event_id, e.request_id,
         strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time,
         e.api, e.method, e.action, e.status, c.client_id, c.client_name, c.orgnr_parent,
         e.message_id, e.parties, s.source, e.position
    FROM events e JOIN clients c USING (client_key) JOIN sources s USING (source_key);
CREATE TABLE store_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
-- party_events covers the events up to this id; the newer ones are indexed by the next flush
-- (their parties are in their rows: the view below reads them from there meanwhile).
INSERT INTO store_meta VALUES ('party_index_upto', (SELECT coalesce(max(event_id), 0) FROM events));
CREATE VIEW party_event_ids AS
  SELECT p.her_id, p.hour, j.value AS event_id
    FROM party_events p, json_each(p.events) j
  UNION ALL
  SELECT CAST(j.value AS INTEGER), e.time / 3600000, e.event_id
    FROM events e, json_each(e.parties) o, json_each(o.value) j
   WHERE e.event_id > (SELECT value FROM store_meta WHERE key = 'party_index_upto');
CREATE TABLE state_messages_v4 (
  bucket     INTEGER NOT NULL,       -- minutes since the epoch when the entry was created
  message_id TEXT NOT NULL,
  last_seen  INTEGER NOT NULL,
  custody    BLOB NOT NULL,
  PRIMARY KEY (bucket, message_id)
) WITHOUT ROWID;
INSERT INTO state_messages_v4
  SELECT last_seen / 60000, message_id, last_seen, custody FROM state_messages;
DROP TABLE state_messages;
ALTER TABLE state_messages_v4 RENAME TO state_messages;
)sql",
      // 4 -> 5: the party index is written in slices over several transactions; rows of a
      // flush still being written lie beyond party_index_upto, and the view leaves them out
      // (it reads those events' parties from their rows until the flush is complete).
      R"sql(
DROP VIEW party_event_ids;
CREATE VIEW party_event_ids AS
  SELECT p.her_id, p.hour, j.value AS event_id
    FROM party_events p, json_each(p.events) j
   WHERE p.first_event <= (SELECT value FROM store_meta WHERE key = 'party_index_upto')
  UNION ALL
  SELECT CAST(j.value AS INTEGER), e.time / 3600000, e.event_id
    FROM events e, json_each(e.parties) o, json_each(o.value) j
   WHERE e.event_id > (SELECT value FROM store_meta WHERE key = 'party_index_upto');
)sql",
      // 5 -> 6: the index over (client, time) is replaced by `client_events`, batched like the
      // party index: one row per (client, hour, flush) listing the event ids. The index took
      // an entry per event at a place of its own client's, a page touched for nearly every
      // event; the batched rows are written in key order once per flush.
      R"sql(
CREATE TABLE client_events (
  client_key  INTEGER NOT NULL,
  hour        INTEGER NOT NULL,      -- event time / 3,600,000
  first_event INTEGER NOT NULL,      -- the smallest event id in `events`
  time_from   INTEGER NOT NULL,      -- the earliest and latest event time in `events`
  time_to     INTEGER NOT NULL,
  events      TEXT NOT NULL,         -- JSON array of event ids, ascending
  PRIMARY KEY (client_key, hour, first_event)
) WITHOUT ROWID;
INSERT INTO client_events
  SELECT client_key, time / 3600000, min(event_id), min(time), max(time),
         json_group_array(event_id)
    FROM (SELECT client_key, time, event_id FROM events ORDER BY client_key, event_id)
   GROUP BY client_key, time / 3600000;
INSERT INTO store_meta VALUES ('client_index_upto', (SELECT coalesce(max(event_id), 0) FROM events));
DROP INDEX events_client_time;
CREATE VIEW client_event_ids AS
  SELECT c.client_key, c.hour, j.value AS event_id
    FROM client_events c, json_each(c.events) j
   WHERE c.first_event <= (SELECT value FROM store_meta WHERE key = 'client_index_upto')
  UNION ALL
  SELECT e.client_key, e.time / 3600000, e.event_id
    FROM events e
   WHERE e.event_id > (SELECT value FROM store_meta WHERE key = 'client_index_upto');
)sql",
      // 6 -> 7: each call's own orgnrParent (the delegation it acted under: a multi-tenant
      // client has several; `clients` keeps the first seen), shown by event_view with the
      // call's orgnrChild and herid claim; events stored before show the client's. And the
      // quarantine is unique per record (position, size and a hash of all its bytes), not per
      // position: stdin, a file rewritten in place or a topic created anew reuse positions,
      // and their bad records were lost.
      R"sql(
ALTER TABLE events ADD COLUMN orgnr_parent TEXT;
DROP VIEW event_view;
CREATE VIEW event_view AS
  SELECT e.event_id, e.request_id,
         strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time,
         e.api, e.method, e.action, e.status, c.client_id, c.client_name,
         coalesce(e.orgnr_parent, c.orgnr_parent) AS orgnr_parent,
         e.message_id, e.parties, s.source, e.position, e.orgnr_child, e.herid_claim
    FROM events e JOIN clients c USING (client_key) JOIN sources s USING (source_key);
CREATE TABLE quarantine_v7 (
  quarantine_id INTEGER PRIMARY KEY,
  source        TEXT NOT NULL,
  position      INTEGER NOT NULL,
  reason        TEXT NOT NULL,
  detail        TEXT NOT NULL,
  size          INTEGER NOT NULL,    -- the record's full size in bytes
  raw           BLOB NOT NULL,       -- the record's bytes, capped
  received_at   INTEGER NOT NULL,    -- wall clock, ms since the epoch
  record_hash   INTEGER,             -- FNV-1a (64 bits) of the record as received, uncapped;
                                     -- NULL for records quarantined before version 7
  UNIQUE (source, position, size, record_hash)
);
INSERT INTO quarantine_v7
  SELECT quarantine_id, source, position, reason, detail, size, raw, received_at, NULL
    FROM quarantine ORDER BY quarantine_id;
DROP TABLE quarantine;
ALTER TABLE quarantine_v7 RENAME TO quarantine;
)sql",
      // 7 -> 8: a hash of each call's record as received (ContentHash64; NULL for calls stored
      // before), so that a record with a stored call's requestId and timestamp but other bytes
      // is told from the same record seen again: it is quarantined, not dropped as a duplicate.
      R"sql(
ALTER TABLE events ADD COLUMN content_hash INTEGER;
)sql",
      // 8 -> 9: every name a client's tokens gave (`clients` keeps the first), so that a
      // client is found by the name an alert or a later call showed. And findings by their
      // last repeat: a finding first raised before a window but repeated or escalated in it
      // (a denied takeover at 10:00 that succeeded at 10:30) belongs to that window too.
      // The herid claim lists each client's calls had, from when: whose party an early
      // download of its was for (AuditState::OwnerOf), the same after a restart.
      R"sql(
CREATE INDEX findings_last_seen ON findings(last_seen);
CREATE TABLE state_claims (
  client_idx INTEGER NOT NULL,
  since      INTEGER NOT NULL,       -- event time of the first call with this list
  claim      TEXT NOT NULL,
  PRIMARY KEY (client_idx, since)
) WITHOUT ROWID;
CREATE TABLE client_names (
  client_key INTEGER NOT NULL REFERENCES clients(client_key),
  name       TEXT NOT NULL,
  PRIMARY KEY (client_key, name)
) WITHOUT ROWID;
INSERT OR IGNORE INTO client_names
  SELECT client_key, client_name FROM clients WHERE coalesce(client_name, '') <> '';
INSERT OR IGNORE INTO client_names
  SELECT DISTINCT c.client_key, f.client_name FROM findings f JOIN clients c USING (client_id)
   WHERE coalesce(f.client_name, '') <> '';
)sql",
      // 9 -> 10: an apprec_send's own message id (its response.id), beside the message it
      // answers, so that `events --message` finds the call that sent an apprec by the apprec's
      // id too. NULL for every other call, and for calls stored before.
      R"sql(
ALTER TABLE events ADD COLUMN apprec_id TEXT;
CREATE INDEX events_time_apprec ON events(time, apprec_id) WHERE apprec_id IS NOT NULL;
)sql",
  };
  return kMigrations;
}

bool HasStoreTables(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                         "('events', 'source_positions')",
                         -1, &st, nullptr) != SQLITE_OK) {
    sqlite3_finalize(st);
    return false;
  }
  const bool both = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2;
  sqlite3_finalize(st);
  return both;
}

}  // namespace edi
