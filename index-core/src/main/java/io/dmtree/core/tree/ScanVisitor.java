package io.dmtree.core.tree;

import org.agrona.DirectBuffer;

/** Receives scan results in key order; the buffer is valid only during the call. */
@FunctionalInterface
public interface ScanVisitor {
    /** Return false to stop the scan. */
    boolean visit(DirectBuffer buffer, int keyOffset, int valueOffset);
}
