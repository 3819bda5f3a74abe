// locust's messages: every one the worker sends encodes to the bytes Python's msgpack writes for
// the same tuple (locust's Message.serialize), and the master's messages decode from them.
// The golden bytes were made once with Debian's python3-msgpack 1.0.3:
//   /usr/bin/python3 -c 'import msgpack; print(msgpack.dumps(("client_ready", -1, "w1")).hex())'
// (and likewise for each tuple written beside its golden below).
#include "load/locust_protocol.h"

#include <gtest/gtest.h>

namespace netres::load::locust {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

std::string hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

// Encodes to the golden and decodes back to the same message.
void round_trip(const Message& m, std::string_view golden) {
  EXPECT_EQ(hex(encode(m)), golden) << m.type;
  EXPECT_EQ(decode(unhex(golden)), m) << m.type;
}

TEST(LocustProtocol, ClientReadySendsVersionMinusOne) {
  // ("client_ready", -1, "w1")
  round_trip(client_ready("w1"), "93ac636c69656e745f7265616479ffa27731");
}

TEST(LocustProtocol, Heartbeat) {
  // ("heartbeat", {"state": "running", "current_cpu_usage": 12.5,
  //                "current_memory_usage": 1048576}, "w1")
  round_trip(heartbeat("w1", "running", 12.5, 1048576),
             "93a968656172746265617483a57374617465a772756e6e696e67b163757272656e745f6370755f7573616"
             "765cb4029000000000000b463757272656e745f6d656d6f72795f7573616765ce00100000a27731");
}

TEST(LocustProtocol, SpawningStoppedQuit) {
  round_trip(spawning("w1"), "93a8737061776e696e67c0a27731");  // ("spawning", None, "w1")
  round_trip(client_stopped("w1"),
             "93ae636c69656e745f73746f70706564c0a27731");  // ("client_stopped", None, "w1")
  round_trip(quit("w1"), "93a471756974c0a27731");          // ("quit", None, "w1")
}

TEST(LocustProtocol, SpawningComplete) {
  // ("spawning_complete", {"user_classes_count": {"a": 3, "b": 1}, "user_count": 4}, "w1")
  round_trip(spawning_complete("w1", {{"a", 3}, {"b", 1}}),
             "93b1737061776e696e675f636f6d706c65746582b2757365725f636c61737365735f636f756e7482a1610"
             "3a16201aa757365725f636f756e7404a27731");
}

TEST(LocustProtocol, SpawnFromTheMaster) {
  // ("spawn", {"timestamp": 1700000000.25, "user_classes_count": {"a": 300, "b": 70000},
  //            "host": "http://127.0.0.1:8080", "stop_timeout": None,
  //            "parsed_options": {"x": [1, -200, True]}}, "w1")
  const std::string golden =
      "93a5737061776e85a974696d657374616d70cb41d954fc40100000b2757365725f636c61737365735f636f756e74"
      "82a161cd012ca162ce00011170a4686f7374b5687474703a2f2f3132372e302e302e313a38303830ac73746f705f"
      "74696d656f7574c0ae7061727365645f6f7074696f6e7381a1789301d1ff38c3a27731";
  Message m = decode(unhex(golden));
  EXPECT_EQ(m.type, "spawn");
  EXPECT_EQ(m.node_id, "w1");
  SpawnCommand c = parse_spawn(m.data);
  EXPECT_DOUBLE_EQ(c.timestamp, 1700000000.25);
  EXPECT_EQ(c.user_classes_count, (std::map<std::string, unsigned>{{"a", 300}, {"b", 70000}}));
  EXPECT_EQ(c.host, "http://127.0.0.1:8080");
  const Value* opts = m.data.find("parsed_options");
  ASSERT_TRUE(opts);
  EXPECT_EQ(*opts->find("x"), Value(Array{Value(1), Value(-200), Value(true)}));
  EXPECT_EQ(hex(encode(m)), golden);  // and back, byte for byte
}

TEST(LocustProtocol, AckWithIndex) {
  // ("ack", {"index": 2}, "w1")
  round_trip(Message{"ack", Value(Map{{"index", Value(2)}}), "w1"},
             "93a361636b81a5696e64657802a27731");
}

TEST(LocustProtocol, IntegerKeysWideIntegersAndStr8) {
  // ("stats", {"response_times": {5: 2, 150: 1, 70000: 1}, "n": -5000000000, "s": "x" * 40},
  //  "w1"): integer map keys, uint8/uint32 and int64 forms, a str8 string.
  Message m{
      "stats",
      Value(
          Map{{"response_times",
               Value(Map{{Value(5), Value(2)}, {Value(150), Value(1)}, {Value(70000), Value(1)}})},
              {"n", Value(int64_t{-5000000000})},
              {"s", Value(std::string(40, 'x'))}}),
      "w1"};
  round_trip(m,
             "93a5737461747383ae726573706f6e73655f74696d6573830502cc9601ce0001117001a16ed3fffffffed"
             "5fa0e00a173d9287878787878787878787878787878787878787878787878787878787878787878787878"
             "7878787878a27731");
}

TEST(LocustProtocol, RefusesWhatIsNotAMessage) {
  EXPECT_THROW(decode(""), ProtocolError);
  EXPECT_THROW(decode(unhex("92a361636bc0")), ProtocolError);          // two elements
  EXPECT_THROW(decode(unhex("93c0c0a27731")), ProtocolError);          // type is nil
  EXPECT_THROW(decode(unhex("93a361636bc001")), ProtocolError);        // node id is an integer
  EXPECT_THROW(decode(unhex("93a361636bc0a27731c0")), ProtocolError);  // trailing bytes
  EXPECT_THROW(decode(unhex("93a361636b")), ProtocolError);            // cut short
  EXPECT_THROW(decode(unhex("dd7fffffff")), ProtocolError);            // a 2G-element array
  // Nested deeper than kMaxDepth.
  std::string deep(100, static_cast<char>(0x91));
  deep += static_cast<char>(0xc0);
  EXPECT_THROW(decode(deep), ProtocolError);
}

TEST(LocustProtocol, SpawnNeedsTimestampAndCounts) {
  EXPECT_THROW(parse_spawn(Value(Map{{"user_classes_count", Value(Map{})}})), ProtocolError);
  EXPECT_THROW(parse_spawn(Value(Map{{"timestamp", Value(1.0)}})), ProtocolError);
  EXPECT_THROW(parse_spawn(Value(Map{{"timestamp", Value(1.0)},
                                     {"user_classes_count", Value(Map{{"a", Value(-1)}})}})),
               ProtocolError);
  SpawnCommand c = parse_spawn(Value(Map{{"timestamp", Value(7)},
                                         {"user_classes_count", Value(Map{{"a", Value(0)}})},
                                         {"host", Value()}}));
  EXPECT_EQ(c.timestamp, 7);
  EXPECT_EQ(c.host, "");
}

}  // namespace
}  // namespace netres::load::locust
