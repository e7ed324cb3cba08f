// File: journal/little_endian.h
//
// The journal's files store every integer little-endian, whatever the
// host's order (docs/JOURNAL.md): these read and write them byte by byte.
#ifndef JOURNAL_LITTLE_ENDIAN_H_
#define JOURNAL_LITTLE_ENDIAN_H_

#include <cstdint>

namespace journal {

inline void StoreLittle32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline void StoreLittle64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t LoadLittle32(const char* in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
inline uint64_t LoadLittle64(const char* in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace journal

#endif  // JOURNAL_LITTLE_ENDIAN_H_
