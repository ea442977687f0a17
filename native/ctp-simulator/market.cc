#include "market.h"

#include <cerrno>
#include <cfloat>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "market-time.h"

namespace tickflow_ctp_simulator {

namespace {

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

struct Product {
  const char *name;
  int64_t basePrice;  // in price units
  int64_t tickNum, tickDen;
};

// Base price and tick size per product; tick = num / den.
constexpr Product kProducts[] = {
    {"rb", 3300, 1, 1}, {"cu", 74000, 10, 1}, {"m", 2800, 1, 1},   {"SR", 5900, 1, 1}, {"IF", 3900, 1, 5},
    {"sc", 550, 1, 10}, {"au", 620, 1, 50},   {"ag", 7600, 1, 1}, {"i", 780, 1, 2},
};
constexpr Product kOtherProduct = {"", 1000, 1, 1};

const Product &productOf(const std::string &instrumentId) {
  size_t letters = 0;
  while (letters < instrumentId.size() &&
         ((instrumentId[letters] >= 'a' && instrumentId[letters] <= 'z') || (instrumentId[letters] >= 'A' && instrumentId[letters] <= 'Z')))
    ++letters;
  std::string product = instrumentId.substr(0, letters);
  for (const Product &p : kProducts)
    if (product == p.name) return p;
  return kOtherProduct;
}

template <size_t N>
void copyText(char (&out)[N], const char *text) {
  std::strncpy(out, text, N - 1);
  out[N - 1] = '\0';
}

// ---- recorded files -------------------------------------------------------

enum class Kind { Chars, Double, Int };

struct Column {
  const char *name;
  size_t offset;
  size_t size;
  Kind kind;
};

using Depth = CThostFtdcDepthMarketDataField;
#define TF_CHARS(field) Column{#field, offsetof(Depth, field), sizeof(Depth::field), Kind::Chars}
#define TF_DOUBLE(field) Column{#field, offsetof(Depth, field), sizeof(Depth::field), Kind::Double}
#define TF_INT(field) Column{#field, offsetof(Depth, field), sizeof(Depth::field), Kind::Int}
const Column kColumns[] = {
    TF_CHARS(TradingDay),       TF_CHARS(reserve1),         TF_CHARS(ExchangeID),      TF_CHARS(reserve2),
    TF_DOUBLE(LastPrice),       TF_DOUBLE(PreSettlementPrice), TF_DOUBLE(PreClosePrice), TF_DOUBLE(PreOpenInterest),
    TF_DOUBLE(OpenPrice),       TF_DOUBLE(HighestPrice),    TF_DOUBLE(LowestPrice),    TF_INT(Volume),
    TF_DOUBLE(Turnover),        TF_DOUBLE(OpenInterest),    TF_DOUBLE(ClosePrice),     TF_DOUBLE(SettlementPrice),
    TF_DOUBLE(UpperLimitPrice), TF_DOUBLE(LowerLimitPrice), TF_DOUBLE(PreDelta),       TF_DOUBLE(CurrDelta),
    TF_CHARS(UpdateTime),       TF_INT(UpdateMillisec),     TF_DOUBLE(BidPrice1),      TF_INT(BidVolume1),
    TF_DOUBLE(AskPrice1),       TF_INT(AskVolume1),         TF_DOUBLE(BidPrice2),      TF_INT(BidVolume2),
    TF_DOUBLE(AskPrice2),       TF_INT(AskVolume2),         TF_DOUBLE(BidPrice3),      TF_INT(BidVolume3),
    TF_DOUBLE(AskPrice3),       TF_INT(AskVolume3),         TF_DOUBLE(BidPrice4),      TF_INT(BidVolume4),
    TF_DOUBLE(AskPrice4),       TF_INT(AskVolume4),         TF_DOUBLE(BidPrice5),      TF_INT(BidVolume5),
    TF_DOUBLE(AskPrice5),       TF_INT(AskVolume5),         TF_DOUBLE(AveragePrice),   TF_CHARS(ActionDay),
    TF_CHARS(InstrumentID),     TF_CHARS(ExchangeInstID),   TF_DOUBLE(BandingUpperPrice), TF_DOUBLE(BandingLowerPrice),
};
#undef TF_CHARS
#undef TF_DOUBLE
#undef TF_INT

std::string trim(const std::string &text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return std::string();
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// One CSV cell (a struct of ours keeps std::vector's instantiation hidden).
struct Cell {
  std::string text;
};

// Reads one CSV record starting at pos (RFC 4180 quoting, no line breaks
// inside quotes); false at the end of the text.
bool readRecord(const std::string &text, size_t &pos, std::vector<Cell> &cells) {
  cells.clear();
  if (pos >= text.size()) return false;
  std::string cell;
  bool quoted = false;
  while (pos < text.size()) {
    char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          cell.push_back('"');
          ++pos;
        } else {
          quoted = false;
        }
      } else if (c == '\n') {
        break;  // an unterminated quote ends with its line
      } else {
        cell.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(Cell{cell});
      cell.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      cell.push_back(c);
    }
  }
  cells.push_back(Cell{cell});
  return true;
}

void storeCell(const Column &column, const std::string &raw, Depth &row) {
  char *target = reinterpret_cast<char *>(&row) + column.offset;
  if (column.kind == Kind::Chars) {
    size_t length = raw.size() < column.size - 1 ? raw.size() : column.size - 1;
    std::memcpy(target, raw.data(), length);
    target[length] = '\0';
    return;
  }
  std::string text = trim(raw);
  char *end = nullptr;
  if (column.kind == Kind::Double) {
    double value = DBL_MAX;  // empty or unreadable: the exchange did not set it
    if (!text.empty()) {
      double parsed = std::strtod(text.c_str(), &end);
      if (end != nullptr && *end == '\0') value = parsed;
    }
    std::memcpy(target, &value, sizeof value);
  } else {
    int value = 0;
    if (!text.empty()) {
      errno = 0;
      long long parsed = std::strtoll(text.c_str(), &end, 10);
      if (end != nullptr && *end == '\0' && errno == 0 && parsed >= INT_MIN && parsed <= INT_MAX) value = static_cast<int>(parsed);
    }
    std::memcpy(target, &value, sizeof value);
  }
}

}  // namespace

Random::Random(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t &word : state_) word = splitmix64(x);
}

uint64_t Random::next() {
  const uint64_t result = rotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotateLeft(state_[3], 45);
  return result;
}

Market::Market(const FrontParams &params) : params_(params), recorded_(params.hasFile), random_(params.seed) {
  if (recorded_) {
    loadRecorded(params.file);
    return;
  }
  for (const InstrumentSpec &spec : params.instruments) {
    Instrument instrument;
    instrument.exchange = spec.exchange;
    instrument.id = spec.id;
    instrument.dce = spec.exchange == "DCE";
    const Product &product = productOf(spec.id);
    instrument.tickNum = product.tickNum;
    instrument.tickDen = product.tickDen;
    instrument.baseTicks = product.basePrice * product.tickDen / product.tickNum;
    instrument.upperTicks = (instrument.baseTicks * 107 + 50) / 100;
    instrument.lowerTicks = (instrument.baseTicks * 93 + 50) / 100;
    instrument.lastTicks = instrument.baseTicks;
    // Drawn at creation, in instrument order, so they too depend only on the seed.
    instrument.openInterest = 50000 + static_cast<int64_t>(random_.next() % 150000);
    instrument.preOpenInterest = instrument.openInterest;
    slots_.emplace(spec.id, static_cast<int>(slots_.size()));
    instruments_.push_back(std::move(instrument));
  }
}

void Market::loadRecorded(const std::string &path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) return;  // unreadable: the front plays nothing
  std::string text((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  if (stream.bad()) return;
  size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // a UTF-8 byte-order mark
  std::vector<Cell> cells;
  if (!readRecord(text, pos, cells)) return;
  std::vector<const Column *> header;
  for (const Cell &name : cells) {
    const Column *found = nullptr;
    std::string wanted = trim(name.text);
    for (const Column &column : kColumns)
      if (wanted == column.name) found = &column;
    header.push_back(found);  // null: an unknown column, ignored
  }
  while (readRecord(text, pos, cells)) {
    if (cells.size() == 1 && trim(cells[0].text).empty()) continue;  // a blank line
    Depth row;
    std::memset(&row, 0, sizeof row);
    // Columns the file leaves out are unset: DBL_MAX for prices, 0 and '' otherwise.
    for (const Column &column : kColumns) storeCell(column, std::string(), row);
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i)
      if (header[i] != nullptr) storeCell(*header[i], cells[i].text, row);
    int slot = -1;
    if (row.InstrumentID[0] != '\0') {
      slot = slots_.emplace(row.InstrumentID, static_cast<int>(slots_.size())).first->second;
    }
    rows_.push_back(Row{row, slot});
  }
}

int Market::slotOf(const char *instrumentId) const {
  if (instrumentId == nullptr) return -1;
  auto found = slots_.find(instrumentId);
  return found == slots_.end() ? -1 : found->second;
}

const Market::Second &Market::secondOf(int64_t marketMicros) {
  int64_t second = marketMicros / kMicrosPerSecond;
  if (second != second_.second) {
    second_.second = second;
    int64_t secondStart = second * kMicrosPerSecond;
    second_.tradingDay = tradingDayNumber(secondStart);
    second_.night = isNightHour(secondStart);
    formatTimeOfDay(secondStart, second_.updateTime);
    formatDate(secondStart / kMicrosPerDay, second_.calendarDate);
    formatDate(second_.tradingDay, second_.tradingDate);
  }
  return second_;
}

int Market::advance(uint64_t k, int64_t marketMicros) {
  if (recorded_) return k < rows_.size() ? rows_[k].slot : -1;
  if (instruments_.empty()) return -1;
  int slot = static_cast<int>(k % instruments_.size());
  Instrument &in = instruments_[static_cast<size_t>(slot)];
  const Second &second = secondOf(marketMicros);
  if (second.tradingDay != in.tradingDay) {
    // A new trading day: the day's cumulative figures start over.
    if (in.tradingDay >= 0) in.preOpenInterest = in.openInterest;
    in.tradingDay = second.tradingDay;
    in.volume = 0;
    in.turnover = 0;
    in.traded = false;
  }
  // One draw per tick, so that tick k always consumes the same randomness.
  const uint64_t r = random_.next();
  const unsigned move = static_cast<unsigned>(r & 0xff);
  int64_t step = move < 77 ? -1 : (move >= 179 ? 1 : 0);
  int64_t next = in.lastTicks + step;
  if (next > in.upperTicks || next < in.lowerTicks) next = in.lastTicks - step;  // bounce off the limits
  in.lastTicks = next;
  const int64_t quantity = static_cast<int64_t>((r >> 8) & 7);  // 0 now and then: a quote change without a trade
  in.bidBelow = ((r >> 11) & 1) != 0;
  in.bidVolume = static_cast<int>((r >> 12) & 0x3f) + 1;
  in.askVolume = static_cast<int>((r >> 18) & 0x3f) + 1;
  if (quantity > 0) {
    in.volume += quantity;
    in.turnover += in.price(in.lastTicks) * static_cast<double>(quantity);
    if (!in.traded) {
      in.traded = true;
      in.openTicks = in.highTicks = in.lowTicks = in.lastTicks;
    } else {
      if (in.lastTicks > in.highTicks) in.highTicks = in.lastTicks;
      if (in.lastTicks < in.lowTicks) in.lowTicks = in.lastTicks;
    }
    int64_t change = static_cast<int64_t>((r >> 24) % static_cast<uint64_t>(2 * quantity + 1)) - quantity;
    if (in.openInterest + change >= 1) in.openInterest += change;
  }
  return slot;
}

void Market::fill(uint64_t k, int64_t marketMicros, CThostFtdcDepthMarketDataField &out) {
  if (recorded_) {
    out = rows_[k].tick;
    return;
  }
  const Instrument &in = instruments_[k % instruments_.size()];
  const Second &second = secondOf(marketMicros);
  std::memset(&out, 0, sizeof out);
  std::memcpy(out.TradingDay, second.tradingDate, sizeof out.TradingDay);
  if (params_.exchangeId) copyText(out.ExchangeID, in.exchange.c_str());
  copyText(out.InstrumentID, in.id.c_str());
  copyText(out.ExchangeInstID, in.id.c_str());
  std::memcpy(out.UpdateTime, second.updateTime, sizeof out.UpdateTime);
  out.UpdateMillisec = static_cast<int>(marketMicros % kMicrosPerSecond / 1000);
  // DCE fills ActionDay with the trading day during the night session.
  std::memcpy(out.ActionDay, in.dce && second.night ? second.tradingDate : second.calendarDate, sizeof out.ActionDay);

  const double base = in.price(in.baseTicks);
  out.LastPrice = in.price(in.lastTicks);
  out.PreSettlementPrice = base;
  out.PreClosePrice = base;
  out.PreOpenInterest = static_cast<double>(in.preOpenInterest);
  out.OpenPrice = in.traded ? in.price(in.openTicks) : DBL_MAX;
  out.HighestPrice = in.traded ? in.price(in.highTicks) : DBL_MAX;
  out.LowestPrice = in.traded ? in.price(in.lowTicks) : DBL_MAX;
  out.Volume = in.volume > INT_MAX ? INT_MAX : static_cast<int>(in.volume);
  out.Turnover = in.turnover;
  out.OpenInterest = static_cast<double>(in.openInterest);
  out.ClosePrice = DBL_MAX;
  out.SettlementPrice = DBL_MAX;
  out.UpperLimitPrice = in.price(in.upperTicks);
  out.LowerLimitPrice = in.price(in.lowerTicks);
  out.PreDelta = DBL_MAX;
  out.CurrDelta = DBL_MAX;
  const int64_t bidTicks = in.bidBelow ? in.lastTicks - 1 : in.lastTicks;
  out.BidPrice1 = in.price(bidTicks);
  out.BidVolume1 = in.bidVolume;
  out.AskPrice1 = in.price(bidTicks + 1);
  out.AskVolume1 = in.askVolume;
  out.BidPrice2 = out.AskPrice2 = out.BidPrice3 = out.AskPrice3 = DBL_MAX;
  out.BidPrice4 = out.AskPrice4 = out.BidPrice5 = out.AskPrice5 = DBL_MAX;
  out.AveragePrice = in.volume > 0 ? in.turnover / static_cast<double>(in.volume) : DBL_MAX;
  out.BandingUpperPrice = DBL_MAX;
  out.BandingLowerPrice = DBL_MAX;
}

void Market::loginTradingDay(int64_t marketMicros, uint64_t nextTick, char out[9]) {
  if (recorded_ && !rows_.empty()) {
    // A replay reports the trading day of the rows it is playing.
    size_t row = nextTick == 0 ? 0 : static_cast<size_t>(nextTick - 1);
    if (row >= rows_.size()) row = rows_.size() - 1;
    if (rows_[row].tick.TradingDay[0] != '\0') {
      std::memcpy(out, rows_[row].tick.TradingDay, 9);
      return;
    }
  }
  formatDate(tradingDayNumber(marketMicros), out);
}

}  // namespace tickflow_ctp_simulator
