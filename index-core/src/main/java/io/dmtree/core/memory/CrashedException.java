package io.dmtree.core.memory;

/**
 * A verb refused because its compute node was stopped ({@link CrashingVerbs}): the crash point
 * was reached, or passed earlier. Nothing of the refused verb took effect, except the cache lines a
 * torn WRITE at the crash point was chosen to land.
 */
public final class CrashedException extends RuntimeException {
    public CrashedException(String message) {
        super(message);
    }
}
