package io.dmtree.core.carrier;

/**
 * One half of a carrier (DESIGN.md, "Transports"), found by name in the {@link CarrierRegistry}:
 * the memory node's server half or the compute node's client half. Both halves of one carrier
 * carry the same name ({@code local}, {@code shm}, {@code tcp}, {@code rdma}); the name is also
 * what a memory node's region description announces, so a compute node picks the client half that
 * speaks to it.
 */
public interface NamedCarrier {
    /** The carrier's name: lower case, as given to {@code --transport}. */
    String name();

    /** Null when this half can run on this host; otherwise what is missing and how to get it. */
    default String unavailableReason() {
        return null;
    }
}
