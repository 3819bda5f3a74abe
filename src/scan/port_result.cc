// Names of port states and reasons, as the table and NDJSON print them.
#include "scan/port_result.h"

namespace netres::scan {

const char* to_string(PortState s) {
  switch (s) {
    case PortState::kOpen:
      return "open";
    case PortState::kClosed:
      return "closed";
    case PortState::kFiltered:
      return "filtered";
  }
  return "?";
}

const char* to_string(Reason r) {
  switch (r) {
    case Reason::kSynAck:
      return "syn-ack";
    case Reason::kConnRefused:
      return "conn-refused";
    case Reason::kNoResponse:
      return "no-response";
    case Reason::kHostUnreach:
      return "host-unreach";
    case Reason::kNetUnreach:
      return "net-unreach";
    case Reason::kLocalDenied:
      return "local-denied";
    case Reason::kError:
      return "error";
  }
  return "?";
}

}  // namespace netres::scan
