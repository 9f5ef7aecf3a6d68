// The one YAML document of a rule, fixture or configuration file.
//
// yaml-cpp's Load reads a stream's first document and ignores the rest, so a line out of place
// after a file's top-level list (`garbage`, a stray `key: value`) or a second document after
// `---` would be dropped without a word, and with it every rule or setting it held; and of a
// key written twice in one mapping only the first counts. These read the whole stream and
// refuse a second document that holds anything, and a key given twice.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace edi {

// The document of `text` (a Null node when there is none). Throws YAML::Exception with the
// line of the offending text on a syntax error anywhere in `text`, on a second document that
// is not empty, and on a key given twice in one mapping.
YAML::Node LoadOneYamlDocument(const std::string& text);
// The same for the file at `path`; throws YAML::BadFile when it cannot be read.
YAML::Node LoadOneYamlDocumentFile(const std::string& path);

// Throws YAML::ParserException at a quoted scalar of `doc` (loaded from `text`) that does not
// end on the line it starts on. YAML folds such a scalar's lines into one, so a closing quote
// left out swallows the lines after it (up to the next quote or the end of the file, which
// yaml-cpp takes for one) into one value: `database: "/var/lib/audit.db` would name a file
// ending in a space. A setting never needs one.
void RefuseQuotedScalarsAcrossLines(const YAML::Node& doc, const std::string& text);

}  // namespace edi
