#include "open-sessions.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "session-core.h"

namespace tickflow {
namespace {

// Sessions whose API is not yet released, for the atexit handler: exit()
// (process.exit) runs no environment cleanup hook. Deliberately leaked, so no
// static destructor runs while a vendor thread may still be inside our Spi.
std::mutex &OpenSessionsMutex() {
  static auto *mutex = new std::mutex;
  return *mutex;
}
std::vector<SessionCore *> &OpenSessions() {
  static auto *sessions = new std::vector<SessionCore *>;
  return *sessions;
}

void ReleaseOpenSessionsAtExit() {
  std::lock_guard<std::mutex> lock(OpenSessionsMutex());
  for (SessionCore *core : OpenSessions()) core->ReleaseApi();
  OpenSessions().clear();
}

}  // namespace

void AddOpenSession(SessionCore *core) {
  std::lock_guard<std::mutex> lock(OpenSessionsMutex());
  OpenSessions().push_back(core);
}

void RemoveOpenSession(SessionCore *core) {
  std::lock_guard<std::mutex> lock(OpenSessionsMutex());
  auto &sessions = OpenSessions();
  sessions.erase(std::remove(sessions.begin(), sessions.end(), core), sessions.end());
}

void ReleaseSessionsBeforeLibraryTeardown() {
  // atexit handlers run newest first: registered after each dlopen, one runs before the static
  // destructors of every library loaded so far. Running it more than once is harmless.
  std::atexit(ReleaseOpenSessionsAtExit);
}

}  // namespace tickflow
