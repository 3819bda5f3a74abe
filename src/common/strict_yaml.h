// Strict YAML reading for the verbs' files (scenarios, monitor configs): every mapping is checked
// against its allowed keys and every error names FILE:LINE:COL, so a typo is an error instead of
// a silently ignored setting. Built on yaml-cpp's node marks.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/duration.h"

namespace netres {

class StrictYaml {
 public:
  using Fields = std::map<std::string, YAML::Node>;

  explicit StrictYaml(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  // Throws UsageError "FILE:LINE:COL: message" (line and column 1-based).
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& message) const;
  [[noreturn]] void fail(const YAML::Node& n, const std::string& message) const {
    fail(n.Mark(), message);
  }

  // The keys of a mapping, each checked against `allowed`; duplicates are errors too.
  Fields fields(const YAML::Node& n, std::string_view what,
                std::initializer_list<std::string_view> allowed) const;
  static const YAML::Node* find(const Fields& f, const std::string& key) {
    auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second;
  }

  // Digits only, at most UINT64_MAX; nullopt otherwise (callers word the error).
  static std::optional<uint64_t> whole_number(std::string_view s);

  std::string text(const YAML::Node& n, std::string_view what) const;
  double number(const YAML::Node& n, std::string_view what) const;
  uint64_t integer(const YAML::Node& n, std::string_view what, uint64_t min, uint64_t max) const;
  bool boolean(const YAML::Node& n, std::string_view what) const;
  Nanos duration(const YAML::Node& n, std::string_view what) const;

 private:
  std::string file_;
};

// A yaml-cpp error (syntax, or a bad conversion while loading) as the UsageError
// "FILE:LINE:COL: message".
[[noreturn]] void throw_yaml_error(const std::string& file, const YAML::Exception& e);

// Parses `text` (at most `max_bytes`) into a node, turning yaml-cpp's syntax errors into
// "FILE:LINE:COL: ..." UsageErrors.
YAML::Node load_yaml_text(std::string_view text, const std::string& file, size_t max_bytes);
// Reads and parses a file; "FILE: cannot read the <what>" when it cannot be read.
YAML::Node load_yaml_file(const std::string& path, std::string_view what, size_t max_bytes);

}  // namespace netres
