// Lexer and recursive-descent parser for rule conditions (grammar in rules.h).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/condition.h"

namespace edi::detect {

std::string_view CmpOpName(CmpOp op) {
  switch (op) {
    case CmpOp::kEq:
      return "=";
    case CmpOp::kNe:
      return "!=";
    case CmpOp::kLt:
      return "<";
    case CmpOp::kLe:
      return "<=";
    case CmpOp::kGt:
      return ">";
    case CmpOp::kGe:
      return ">=";
    case CmpOp::kIn:
      return "in";
    case CmpOp::kContains:
      return "contains";
    case CmpOp::kStartsWith:
      return "startswith";
    case CmpOp::kEndsWith:
      return "endswith";
    case CmpOp::kExists:
      return "exists";
  }
  return "?";
}

namespace {

enum class Tok : uint8_t { kWord, kQuoted, kLParen, kRParen, kComma, kOp, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // kWord / kQuoted: the text; kOp: the operator
  size_t offset = 0;
};

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '@' || c == '+' || c == '-' || c == '*';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits the whole condition into tokens up front; conditions are short and parsed once.
bool Lex(std::string_view s, std::vector<Token>* out, ParseError* error) {
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    Token t;
    t.offset = i;
    if (i == s.size()) {
      // The end is placed just after the last character written, not after trailing blanks
      // (a block scalar's final line break), so that errors point at the line they concern.
      size_t last = s.find_last_not_of(" \t\r\n");
      t.offset = last == std::string_view::npos ? 0 : last + 1;
      out->push_back(t);
      return true;
    }
    char c = s[i];
    if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      t.kind = Tok::kOp;
      bool has_eq = i + 1 < s.size() && s[i + 1] == '=';
      if (c == '!' && !has_eq) {
        *error = {i, "unexpected '!' (did you mean '!=' or 'not'?)"};
        return false;
      }
      size_t len = (c != '=' && has_eq) ? 2 : 1;
      t.text = std::string(s.substr(i, len));
      i += len;
    } else if (c == '\'' || c == '"') {
      t.kind = Tok::kQuoted;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) ++j;
        t.text.push_back(s[j]);
      }
      if (j >= s.size()) {
        *error = {i, "unterminated quoted text"};
        return false;
      }
      i = j + 1;
    } else if (IsWordChar(c)) {
      t.kind = Tok::kWord;
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else {
      *error = {i, std::string("unexpected character '") + c + "'"};
      return false;
    }
    out->push_back(std::move(t));
  }
}

bool IsKeyword(std::string_view w) {
  return w == "and" || w == "or" || w == "not" || w == "in" || w == "contains" ||
         w == "startswith" || w == "endswith" || w == "exists";
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, ParseError* error)
      : tokens_(std::move(tokens)), error_(error) {}

  bool ParseAll(Ast* out) {
    if (Peek().kind == Tok::kEnd) return Fail(Peek(), "empty condition");
    if (!ParseOr(out)) return false;
    if (Peek().kind != Tok::kEnd) {
      if (Peek().kind == Tok::kRParen) return Fail(Peek(), "unmatched ')'");
      return Fail(Peek(),
                  "expected 'and', 'or' or the end of the condition, found " + Describe(Peek()));
    }
    return true;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool PeekWord(std::string_view w) const { return Peek().kind == Tok::kWord && Peek().text == w; }

  bool Fail(const Token& at, std::string message) {
    *error_ = {at.offset, std::move(message)};
    return false;
  }

  static std::string Describe(const Token& t) {
    return t.kind == Tok::kEnd ? "the end of the condition" : "'" + t.text + "'";
  }

  // Parses `sub (kw sub)*` into one n-ary node of `kind`.
  template <typename Sub>
  bool ParseChain(std::string_view kw, Ast::Kind kind, Ast* out, Sub sub) {
    Ast first;
    size_t start = Peek().offset;
    if (!(this->*sub)(&first)) return false;
    if (!PeekWord(kw)) {
      *out = std::move(first);
      return true;
    }
    Ast group;
    group.kind = kind;
    group.offset = start;
    group.children.push_back(std::move(first));
    while (PeekWord(kw)) {
      Next();
      Ast next;
      if (!(this->*sub)(&next)) return false;
      group.children.push_back(std::move(next));
    }
    *out = std::move(group);
    return true;
  }

  bool ParseOr(Ast* out) { return ParseChain("or", Ast::Kind::kOr, out, &Parser::ParseAnd); }
  bool ParseAnd(Ast* out) { return ParseChain("and", Ast::Kind::kAnd, out, &Parser::ParseNot); }

  bool ParseNot(Ast* out) {
    if (!PeekWord("not")) return ParsePrimary(out);
    if (++depth_ > kMaxDepth) return Fail(Peek(), "the condition is nested too deeply");
    out->kind = Ast::Kind::kNot;
    out->offset = Next().offset;
    out->children.resize(1);
    bool ok = ParseNot(&out->children[0]);
    --depth_;
    return ok;
  }

  bool ParsePrimary(Ast* out) {
    const Token& t = Peek();
    if (t.kind == Tok::kLParen) {
      if (++depth_ > kMaxDepth) return Fail(t, "the condition is nested too deeply");
      Next();
      if (!ParseOr(out)) return false;
      --depth_;
      if (Peek().kind != Tok::kRParen) {
        return Fail(Peek(), "expected ')' to close the '(' at position " +
                                std::to_string(t.offset + 1) + ", found " + Describe(Peek()));
      }
      Next();
      return true;
    }
    if (t.kind != Tok::kWord || IsKeyword(t.text)) {
      return Fail(t, "expected a field, macro or '(', found " + Describe(t));
    }
    Token word = Next();
    out->offset = word.offset;
    out->name = word.text;
    const Token& op = Peek();
    if (op.kind == Tok::kEnd || op.kind == Tok::kRParen || PeekWord("and") || PeekWord("or")) {
      out->kind = Ast::Kind::kRef;
      return true;
    }
    out->kind = Ast::Kind::kCompare;
    out->op_offset = op.offset;
    if (op.kind == Tok::kOp) return ParseBinary(out);
    if (op.kind == Tok::kWord) {
      if (op.text == "exists") {
        out->op = CmpOp::kExists;
        Next();
        return true;
      }
      if (op.text == "in") return ParseIn(out);
      if (op.text == "contains" || op.text == "startswith" || op.text == "endswith") {
        out->op = op.text == "contains"     ? CmpOp::kContains
                  : op.text == "startswith" ? CmpOp::kStartsWith
                                            : CmpOp::kEndsWith;
        Next();
        return ParseValue(out);
      }
    }
    return Fail(op, "expected an operator after '" + word.text + "', found " + Describe(op));
  }

  bool ParseBinary(Ast* out) {
    const std::string& o = Next().text;
    out->op = o == "="    ? CmpOp::kEq
              : o == "!=" ? CmpOp::kNe
              : o == "<"  ? CmpOp::kLt
              : o == "<=" ? CmpOp::kLe
              : o == ">"  ? CmpOp::kGt
                          : CmpOp::kGe;
    return ParseValue(out);
  }

  bool ParseValue(Ast* out) {
    const Token& v = Peek();
    bool word = v.kind == Tok::kWord && !IsKeyword(v.text);
    if (!word && v.kind != Tok::kQuoted) {
      return Fail(v, "expected a value after '" + std::string(CmpOpName(out->op)) + "', found " +
                         Describe(v));
    }
    out->operands.push_back({v.kind == Tok::kQuoted, v.text, v.offset});
    Next();
    return true;
  }

  bool ParseIn(Ast* out) {
    out->op = CmpOp::kIn;
    Next();
    if (Peek().kind != Tok::kLParen) {
      return Fail(Peek(), "expected '(' after 'in', found " + Describe(Peek()));
    }
    Next();
    while (true) {
      if (!ParseValue(out)) return false;
      if (Peek().kind == Tok::kRParen) {
        Next();
        return true;
      }
      if (Peek().kind != Tok::kComma) {
        return Fail(Peek(), "expected ',' or ')' in the 'in' list, found " + Describe(Peek()));
      }
      Next();
    }
  }

  // Bounds the recursion (and the evaluator's, which follows the same shape).
  static constexpr int kMaxDepth = 200;

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  ParseError* error_;
};

}  // namespace

bool IsPlainName(std::string_view name) {
  if (name.empty() || IsKeyword(name) || name == "true" || name == "false") return false;
  for (char c : name) {
    if (!IsWordChar(c)) return false;
  }
  return true;
}

bool ParseCondition(std::string_view text, Ast* out, ParseError* error) {
  std::vector<Token> tokens;
  if (!Lex(text, &tokens, error)) return false;
  Parser parser(std::move(tokens), error);
  *out = Ast();
  return parser.ParseAll(out);
}

}  // namespace edi::detect
