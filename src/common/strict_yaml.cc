// StrictYaml: key checks and typed scalars with FILE:LINE:COL errors.
#include "common/strict_yaml.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "common/error.h"

namespace netres {

void StrictYaml::fail(const YAML::Mark& m, const std::string& message) const {
  int line = m.line >= 0 ? m.line + 1 : 1;
  int col = m.column >= 0 ? m.column + 1 : 1;
  throw UsageError(fmt::format("{}:{}:{}: {}", file_, line, col, message));
}

StrictYaml::Fields StrictYaml::fields(const YAML::Node& n, std::string_view what,
                                      std::initializer_list<std::string_view> allowed) const {
  if (!n.IsMap()) fail(n, fmt::format("{} must be a mapping", what));
  Fields out;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) fail(kv.first, fmt::format("{}: keys must be names", what));
    const std::string& key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(kv.first, fmt::format("unknown key '{}' in {} (expected {})", key, what, list));
    }
    if (out.count(key)) fail(kv.first, fmt::format("duplicate key '{}' in {}", key, what));
    out.emplace(key, kv.second);
  }
  return out;
}

std::optional<uint64_t> StrictYaml::whole_number(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string StrictYaml::text(const YAML::Node& n, std::string_view what) const {
  if (!n.IsScalar()) fail(n, fmt::format("{} must be a string", what));
  return n.Scalar();
}

double StrictYaml::number(const YAML::Node& n, std::string_view what) const {
  std::string s = text(n, what);
  char* end = nullptr;
  double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) ||
      std::isspace(static_cast<unsigned char>(s[0])))
    fail(n, fmt::format("{} must be a number, got '{}'", what, s));
  return v;
}

uint64_t StrictYaml::integer(const YAML::Node& n, std::string_view what, uint64_t min,
                             uint64_t max) const {
  std::string s = text(n, what);
  std::optional<uint64_t> v = whole_number(s);
  if (!v || *v < min || *v > max)
    fail(n, fmt::format("{} must be a whole number from {} to {}, got '{}'", what, min, max, s));
  return *v;
}

bool StrictYaml::boolean(const YAML::Node& n, std::string_view what) const {
  std::string s = text(n, what);
  if (s == "true") return true;
  if (s == "false") return false;
  fail(n, fmt::format("{} must be true or false, got '{}'", what, s));
}

Nanos StrictYaml::duration(const YAML::Node& n, std::string_view what) const {
  std::string s = text(n, what);
  try {
    return parse_duration(s, what);
  } catch (const UsageError& e) {
    fail(n, e.what());
  }
}

void throw_yaml_error(const std::string& file, const YAML::Exception& e) {
  int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
  int col = e.mark.column >= 0 ? e.mark.column + 1 : 1;
  throw UsageError(fmt::format("{}:{}:{}: {}", file, line, col, e.msg));
}

YAML::Node load_yaml_text(std::string_view text, const std::string& file, size_t max_bytes) {
  if (text.size() > max_bytes)
    throw UsageError(fmt::format("{}: file too large (at most {} bytes)", file, max_bytes));
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw_yaml_error(file, e);
  }
}

YAML::Node load_yaml_file(const std::string& path, std::string_view what, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("{}: cannot read the {}", path, what));
  std::string text;
  text.resize(max_bytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) throw UsageError(fmt::format("{}: cannot read the {}", path, what));
  return load_yaml_text(text, path, max_bytes);
}

}  // namespace netres
