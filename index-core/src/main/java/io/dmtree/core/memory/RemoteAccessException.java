package io.dmtree.core.memory;

/**
 * A verb could not take effect: an address outside the region, a misaligned atomic, an unknown
 * memory node, or a memory node that is gone. Nothing was written when this is thrown for a bad
 * address or alignment.
 */
public class RemoteAccessException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RemoteAccessException(String message) {
        super(message);
    }

    public RemoteAccessException(String message, Throwable cause) {
        super(message, cause);
    }
}
