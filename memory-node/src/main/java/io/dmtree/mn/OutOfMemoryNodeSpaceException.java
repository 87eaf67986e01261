package io.dmtree.mn;

import io.dmtree.core.memory.RemoteAccessException;

/** A memory node has no free chunk to hand out. */
public class OutOfMemoryNodeSpaceException extends RemoteAccessException {
    private static final long serialVersionUID = 1L;

    public OutOfMemoryNodeSpaceException(String message) {
        super(message);
    }
}
