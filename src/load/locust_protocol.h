// locust's master/worker messages: a msgpack array [type, data, node_id] per ZeroMQ frame, with
// strings as msgpack str (locust 2.x: runners.py, rpc/protocol.py). `Value` is the data: the
// few msgpack kinds locust uses, decoded from untrusted bytes with bounds on size and depth.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace netres::load::locust {

class Value;
using Array = std::vector<Value>;
// A msgpack map in the order written (keys may be strings or integers: locust sends both).
using Map = std::vector<std::pair<Value, Value>>;

class Value {
 public:
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string, Array, Map>;
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(unsigned i) : v_(int64_t{i}) {}
  Value(int64_t i) : v_(i) {}
  Value(uint64_t i) : v_(static_cast<int64_t>(i)) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Map m) : v_(std::move(m)) {}

  bool is_nil() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_map() const { return std::holds_alternative<Map>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_number() const {
    return is_int() ? static_cast<double>(as_int()) : std::get<double>(v_);
  }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  const Map& as_map() const { return std::get<Map>(v_); }
  Map& as_map() { return std::get<Map>(v_); }
  // The value under string key `key` of a map; null when absent or not a map.
  const Value* find(std::string_view key) const;
  const Storage& storage() const { return v_; }
  bool operator==(const Value& o) const { return v_ == o.v_; }

 private:
  Storage v_;
};

struct Message {
  std::string type;
  Value data;
  std::string node_id;
  bool operator==(const Message& o) const = default;
};

// A message the decoder refuses: not msgpack, not [str, any, str], too big or too deep.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The frame's bytes, as Python's msgpack.dumps((type, data, node_id)) writes them.
std::string encode(const Message& m);
std::string encode_value(const Value& v);
// Throws ProtocolError. Frames are capped at kMaxFrame bytes and nesting at kMaxDepth.
Message decode(std::string_view frame);
inline constexpr size_t kMaxFrame = 16 << 20;
inline constexpr int kMaxDepth = 32;

// What the master asks of a worker, read out of `spawn`'s data: absolute users per class.
struct SpawnCommand {
  double timestamp = 0;
  std::map<std::string, unsigned> user_classes_count;
  std::string host;  // empty when the master has none
};
// Throws ProtocolError when a field is missing or of the wrong kind.
SpawnCommand parse_spawn(const Value& data);

// The worker's messages (data shapes as locust 2.x's WorkerRunner sends them).
Message client_ready(const std::string& node_id);  // version -1: "any", as Debian reports none
Message heartbeat(const std::string& node_id, std::string_view state, double cpu_percent,
                  uint64_t memory_bytes);
Message spawning(const std::string& node_id);
Message spawning_complete(const std::string& node_id,
                          const std::map<std::string, unsigned>& user_classes_count);
Message client_stopped(const std::string& node_id);
Message quit(const std::string& node_id);
Value class_counts(const std::map<std::string, unsigned>& user_classes_count);

}  // namespace netres::load::locust
