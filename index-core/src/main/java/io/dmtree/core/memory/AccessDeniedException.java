package io.dmtree.core.memory;

/**
 * A memory node refused a verb outside the caller's rights on its region ({@link AccessRight}):
 * the message names the global address, the right the verb needed and the rights held there. The
 * verb took no effect (nor did any other of its batch); the connection and every later verb
 * within the rights go on.
 */
public final class AccessDeniedException extends RemoteAccessException {
    private static final long serialVersionUID = 1L;

    public AccessDeniedException(String message) {
        super(message);
    }

    public AccessDeniedException(String message, Throwable cause) {
        super(message, cause);
    }
}
