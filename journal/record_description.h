// File: journal/record_description.h
//
// One journal record for people and for tools: what `routing_journal dump`
// prints. The request and reply are read with the sidecar's own decoder
// (sidecar/routing.fbs); bytes that do not decode are described as such,
// never trusted.
//
//   {"seq":42,"time":"2026-12-02T09:00:01.5Z","kind":"request",
//    "request":{"type":"RouteContact","request_id":7,"contact":"chat-1"},
//    "reply":{"type":"Decision","outcome":"Assigned","agent":"ana",...},
//    "contacts":[{"id":"chat-1","state":"assigned","agent":"ana"}],
//    "agents":[...],"history":[...]}
#ifndef JOURNAL_RECORD_DESCRIPTION_H_
#define JOURNAL_RECORD_DESCRIPTION_H_

#include <cstdint>
#include <string>

#include "journal/journal_record.h"
#include "nlohmann/json.hpp"

namespace journal {

nlohmann::json DescribeRecord(uint64_t sequence, const JournalRecord& record);

// One line of text: sequence, time, kind, the request and its key, the
// reply's outcome, and the changes.
std::string RecordLine(uint64_t sequence, const JournalRecord& record);

}  // namespace journal

#endif  // JOURNAL_RECORD_DESCRIPTION_H_
