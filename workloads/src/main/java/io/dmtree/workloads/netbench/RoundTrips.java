package io.dmtree.workloads.netbench;

import java.io.IOException;

/**
 * One kind of request/reply measured by {@code dmtree netbench}: a raw TCP ping-pong, or a READ
 * through a carrier. {@link #client(int)} gives thread {@code t}'s client, the same one every
 * time it is asked, so connections and buffers are made once and reused by every phase.
 */
interface RoundTrips extends AutoCloseable {
    /** Short name for tables and JSON: {@code raw}, {@code tcp_read}. */
    String name();

    /** What one round trip is, for the report. */
    String description();

    /** Thread {@code t}'s client; made on first use. */
    Client client(int t) throws IOException;

    @Override
    void close();

    /** One thread's client. Not thread-safe; one thread uses it. */
    interface Client {
        /** One whole round trip: the request out, the whole reply in. */
        void once() throws IOException;

        /** Throws unless the last round trip brought back what it should (checked outside the timed loop). */
        void verify() throws IOException;
    }
}
