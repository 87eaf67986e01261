package io.dmtree.core.wire;

/**
 * One registered piece of a memory node's region for the {@code rdma} carrier: region offsets
 * {@code [regionOffset, regionOffset + length)} are at remote address {@code address} under
 * remote key {@code rkey}. Regions over 2 GiB are registered in several pieces.
 */
public record RdmaSegment(long regionOffset, long address, long length, int rkey) {
}
