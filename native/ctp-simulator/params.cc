#include "params.h"

#include <cstring>

#include "market-time.h"

namespace tickflow_ctp_simulator {

namespace {

const char *const kDefaultInstruments[][2] = {
    {"SHFE", "rb2501"}, {"SHFE", "cu2501"}, {"DCE", "m2501"}, {"CZCE", "SR501"}, {"CFFEX", "IF2501"}, {"INE", "sc2501"},
};
constexpr const char *kDefaultStart = "20250102T210000";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes only: a path encoded with encodeURIComponent has no other form
// ('+' is left as it is, since it never stands for a space there).
std::string percentDecode(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 && hexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool parseUnsigned(const std::string &text, uint64_t max, uint64_t &value) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (result > (max - digit) / 10) return false;
    result = result * 10 + digit;
  }
  value = result;
  return true;
}

bool parseInstruments(const std::string &text, std::vector<InstrumentSpec> &out) {
  std::vector<InstrumentSpec> result;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(begin, end - begin);
    size_t dot = item.find('.');
    // Field widths of the market-data struct: ExchangeID[9], InstrumentID[81].
    if (dot == std::string::npos || dot == 0 || dot > 8 || dot + 1 == item.size() || item.size() - dot - 1 > 80) return false;
    InstrumentSpec spec{item.substr(0, dot), item.substr(dot + 1)};
    for (const InstrumentSpec &seen : result)
      if (seen.id == spec.id) return false;  // one stream per InstrumentID
    result.push_back(std::move(spec));
    begin = end + 1;
  }
  if (result.empty()) return false;
  out = std::move(result);
  return true;
}

void applyParameter(const std::string &key, const std::string &value, FrontParams &params) {
  uint64_t number = 0;
  if (key == "seed") {
    if (parseUnsigned(value, UINT64_MAX, number)) params.seed = number;
  } else if (key == "rate") {
    parseRate(value, params.rate);
  } else if (key == "instruments") {
    parseInstruments(value, params.instruments);
  } else if (key == "start") {
    parseMarketTime(value.c_str(), params.startMicros);
  } else if (key == "file") {
    if (!value.empty()) {
      params.hasFile = true;
      params.file = value;
    }
  } else if (key == "exchange_id") {
    if (value == "0" || value == "1") params.exchangeId = value == "1";
  } else if (key == "broker") {
    if (value.size() <= 10) params.broker = value;  // BrokerID[11]
  } else if (key == "retry_ms") {
    if (parseUnsigned(value, 3600000, number) && number > 0) params.retryMs = static_cast<uint32_t>(number);
  }
}

// Splits tcp://HOST:PORT[?query] into its parts; false if malformed.
bool splitAddress(const char *text, bool requireScheme, std::string &hostPort, std::string &query) {
  if (text == nullptr) return false;
  std::string address(text);
  const std::string scheme = "tcp://";
  if (address.compare(0, scheme.size(), scheme) == 0) {
    address.erase(0, scheme.size());
  } else if (requireScheme) {
    return false;
  }
  size_t question = address.find('?');
  query = question == std::string::npos ? std::string() : address.substr(question + 1);
  std::string authority = address.substr(0, question);
  if (!authority.empty() && authority.back() == '/') authority.pop_back();
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  uint64_t port = 0;
  if (!parseUnsigned(authority.substr(colon + 1), 65535, port) || port == 0) return false;
  if (authority.find_first_of("/?#& ") != std::string::npos) return false;
  hostPort = authority;
  return true;
}

}  // namespace

bool parseRate(const std::string &text, uint64_t &rate) {
  uint64_t value = 0;
  if (!parseUnsigned(text, kMaxRate, value) || value == 0) return false;
  rate = value;
  return true;
}

bool parseHostPort(const char *text, std::string &hostPort) {
  std::string query;
  return splitAddress(text, false, hostPort, query);
}

bool parseFrontAddress(const char *text, FrontAddress &out) {
  std::string hostPort, query;
  if (!splitAddress(text, true, hostPort, query)) return false;
  FrontParams params;
  for (const auto &item : kDefaultInstruments) params.instruments.push_back(InstrumentSpec{item[0], item[1]});
  parseMarketTime(kDefaultStart, params.startMicros);
  size_t begin = 0;
  while (begin < query.size()) {
    size_t end = query.find('&', begin);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(begin, end - begin);
    size_t equals = pair.find('=');
    if (equals != std::string::npos) applyParameter(percentDecode(pair.substr(0, equals)), percentDecode(pair.substr(equals + 1)), params);
    begin = end + 1;
  }
  out.hostPort = std::move(hostPort);
  out.params = std::move(params);
  return true;
}

}  // namespace tickflow_ctp_simulator
