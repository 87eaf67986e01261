package io.dmtree.core.membership;

import java.nio.charset.StandardCharsets;

/**
 * One incarnation of a member slot: the slot, the epoch it joined with, and the endpoint it
 * announced (an address others reach it at, such as {@code tcp:10.0.0.2:7400}; may be empty).
 *
 * <p>Epochs come from one counter per cluster that grows with every join of any member, so an
 * epoch names exactly one incarnation, and for one slot a later incarnation always has a larger
 * epoch. An epoch, once lapsed, never becomes live again.
 */
public record Member(MemberId id, long epoch, String endpoint) implements Comparable<Member> {
    /** The longest endpoint, in UTF-8 bytes. */
    public static final int MAX_ENDPOINT_BYTES = 512;

    public Member {
        if (id == null) {
            throw new IllegalArgumentException("member id is required");
        }
        if (epoch <= 0) {
            throw new IllegalArgumentException(id + ": epoch " + epoch + " is not positive");
        }
        checkEndpoint(endpoint);
    }

    /** Checks an endpoint string: present and at most {@link #MAX_ENDPOINT_BYTES} UTF-8 bytes. */
    public static String checkEndpoint(String endpoint) {
        if (endpoint == null) {
            throw new IllegalArgumentException("endpoint is required (use \"\" for none)");
        }
        int bytes = endpoint.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_ENDPOINT_BYTES) {
            throw new IllegalArgumentException("endpoint of " + bytes + " bytes; at most " + MAX_ENDPOINT_BYTES);
        }
        return endpoint;
    }

    public MemberKind kind() {
        return id.kind();
    }

    /** Orders by slot, then epoch. */
    @Override
    public int compareTo(Member o) {
        int c = id.compareTo(o.id);
        return c != 0 ? c : Long.compare(epoch, o.epoch);
    }

    /** {@code true} when both name the same incarnation (same slot and epoch). */
    public boolean sameIncarnation(Member o) {
        return o != null && id.equals(o.id) && epoch == o.epoch;
    }

    @Override
    public String toString() {
        return id + " epoch " + epoch;
    }
}
