// Encoding and decoding of locust's messages with msgpack-cxx: packing straight from Value,
// unpacking into a msgpack object zone with limits, then copying into Value (so nothing of the
// zone escapes and every kind is checked once).
#include "load/locust_protocol.h"

#include <fmt/format.h>

#include <msgpack.hpp>

namespace netres::load::locust {
namespace {

void pack(msgpack::packer<msgpack::sbuffer>& pk, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          pk.pack_nil();
        } else if constexpr (std::is_same_v<T, bool>) {
          x ? pk.pack_true() : pk.pack_false();
        } else if constexpr (std::is_same_v<T, int64_t>) {
          // Python packs non-negative integers as unsigned forms, negative ones as signed.
          if (x >= 0)
            pk.pack_uint64(static_cast<uint64_t>(x));
          else
            pk.pack_int64(x);
        } else if constexpr (std::is_same_v<T, double>) {
          pk.pack_double(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          pk.pack_str(static_cast<uint32_t>(x.size()));
          pk.pack_str_body(x.data(), static_cast<uint32_t>(x.size()));
        } else if constexpr (std::is_same_v<T, Array>) {
          pk.pack_array(static_cast<uint32_t>(x.size()));
          for (const auto& e : x) pack(pk, e);
        } else {
          pk.pack_map(static_cast<uint32_t>(x.size()));
          for (const auto& [k, e] : x) {
            pack(pk, k);
            pack(pk, e);
          }
        }
      },
      v.storage());
}

Value from_object(const msgpack::object& o, int depth) {
  if (depth > kMaxDepth) throw ProtocolError("message nested too deeply");
  switch (o.type) {
    case msgpack::type::NIL:
      return Value();
    case msgpack::type::BOOLEAN:
      return Value(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) throw ProtocolError("integer too large");
      return Value(static_cast<int64_t>(o.via.u64));
    case msgpack::type::NEGATIVE_INTEGER:
      return Value(o.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return Value(o.via.f64);
    case msgpack::type::STR:
      return Value(std::string(o.via.str.ptr, o.via.str.size));
    case msgpack::type::BIN:
      // Python's msgpack gives bytes for bin; locust never sends any, but a peer could: keep
      // the bytes as a string rather than refuse the message.
      return Value(std::string(o.via.bin.ptr, o.via.bin.size));
    case msgpack::type::ARRAY: {
      Array a;
      a.reserve(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i)
        a.push_back(from_object(o.via.array.ptr[i], depth + 1));
      return Value(std::move(a));
    }
    case msgpack::type::MAP: {
      Map m;
      m.reserve(o.via.map.size);
      for (uint32_t i = 0; i < o.via.map.size; ++i)
        m.emplace_back(from_object(o.via.map.ptr[i].key, depth + 1),
                       from_object(o.via.map.ptr[i].val, depth + 1));
      return Value(std::move(m));
    }
    case msgpack::type::EXT:
      throw ProtocolError("msgpack ext types are not part of locust's protocol");
  }
  throw ProtocolError("unknown msgpack type");
}

Message make(std::string type, Value data, const std::string& node_id) {
  return Message{std::move(type), std::move(data), node_id};
}

}  // namespace

const Value* Value::find(std::string_view key) const {
  if (!is_map()) return nullptr;
  for (const auto& [k, v] : as_map())
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

std::string encode_value(const Value& v) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pack(pk, v);
  return std::string(buf.data(), buf.size());
}

std::string encode(const Message& m) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(3);
  pack(pk, Value(m.type));
  pack(pk, m.data);
  pack(pk, Value(m.node_id));
  return std::string(buf.data(), buf.size());
}

Message decode(std::string_view frame) {
  if (frame.size() > kMaxFrame) throw ProtocolError("message too large");
  // The limits bound what a hostile length prefix can make the unpacker allocate.
  // The limits bound what a hostile length prefix can make the unpacker allocate (it reserves
  // an array's or map's slots before reading them): at most kMaxDepth nested 64k-slot blocks.
  const msgpack::unpack_limit limits(/*array=*/1 << 16, /*map=*/1 << 16, /*str=*/1 << 20,
                                     /*bin=*/1 << 20, /*ext=*/0, /*depth=*/kMaxDepth);
  msgpack::object_handle handle;
  size_t offset = 0;
  try {
    msgpack::unpack(handle, frame.data(), frame.size(), offset, nullptr, nullptr, limits);
  } catch (const std::exception& e) {
    throw ProtocolError(fmt::format("not a msgpack message: {}", e.what()));
  }
  if (offset != frame.size()) throw ProtocolError("extra bytes after the message");
  Value v = from_object(handle.get(), 0);
  if (!v.is_array() || v.as_array().size() != 3)
    throw ProtocolError("a message is an array [type, data, node_id]");
  const Array& a = v.as_array();
  if (!a[0].is_string()) throw ProtocolError("the message type is not a string");
  if (!a[2].is_string() && !a[2].is_nil()) throw ProtocolError("the node id is not a string");
  return Message{a[0].as_string(), a[1], a[2].is_string() ? a[2].as_string() : std::string()};
}

SpawnCommand parse_spawn(const Value& data) {
  SpawnCommand c;
  const Value* ts = data.find("timestamp");
  if (!ts || !ts->is_number()) throw ProtocolError("spawn without a numeric timestamp");
  c.timestamp = ts->as_number();
  const Value* counts = data.find("user_classes_count");
  if (!counts || !counts->is_map()) throw ProtocolError("spawn without user_classes_count");
  for (const auto& [k, n] : counts->as_map()) {
    if (!k.is_string() || !n.is_int() || n.as_int() < 0 || n.as_int() > 10'000'000)
      throw ProtocolError("spawn's user_classes_count is not {class name: users}");
    c.user_classes_count[k.as_string()] = static_cast<unsigned>(n.as_int());
  }
  if (const Value* host = data.find("host"); host && host->is_string()) c.host = host->as_string();
  return c;
}

Value class_counts(const std::map<std::string, unsigned>& user_classes_count) {
  Map m;
  for (const auto& [name, n] : user_classes_count) m.emplace_back(Value(name), Value(n));
  return Value(std::move(m));
}

Message client_ready(const std::string& node_id) {
  return make("client_ready", Value(-1), node_id);
}

Message heartbeat(const std::string& node_id, std::string_view state, double cpu_percent,
                  uint64_t memory_bytes) {
  return make("heartbeat",
              Map{{"state", Value(state)},
                  {"current_cpu_usage", Value(cpu_percent)},
                  {"current_memory_usage", Value(memory_bytes)}},
              node_id);
}

Message spawning(const std::string& node_id) { return make("spawning", Value(), node_id); }

Message spawning_complete(const std::string& node_id,
                          const std::map<std::string, unsigned>& user_classes_count) {
  unsigned total = 0;
  for (const auto& [name, n] : user_classes_count) total += n;
  return make(
      "spawning_complete",
      Map{{"user_classes_count", class_counts(user_classes_count)}, {"user_count", Value(total)}},
      node_id);
}

Message client_stopped(const std::string& node_id) {
  return make("client_stopped", Value(), node_id);
}

Message quit(const std::string& node_id) { return make("quit", Value(), node_id); }

}  // namespace netres::load::locust
