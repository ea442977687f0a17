// Sessions whose API is not yet released, so that process exit can release
// them: exit() (process.exit) runs no environment cleanup hook, and the
// vendor's threads must be out of our Spi before the libraries' static
// destructors run.
#pragma once

namespace tickflow {

class SessionCore;

/** Registers a session whose API is open. */
void AddOpenSession(SessionCore *core);

/** Forgets a session whose API was released. */
void RemoveOpenSession(SessionCore *core);

/**
 * Makes process exit release every open API before the static destructors
 * of the libraries loaded so far; called after each dlopen.
 */
void ReleaseSessionsBeforeLibraryTeardown();

}  // namespace tickflow
