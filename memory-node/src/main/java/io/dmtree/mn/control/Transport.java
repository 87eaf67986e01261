package io.dmtree.mn.control;

import java.util.Locale;

/** The carriers a memory node can serve its region with (DESIGN.md, "Transports"). */
public enum Transport {
    /** Same JVM only: a memory-node process with it serves the control plane and no data path. */
    LOCAL,
    /** A file under /dev/shm that compute nodes on this host map. */
    SHM,
    /** A verb executor over TCP. */
    TCP,
    /** One-sided RDMA through DiSNI. */
    RDMA;

    public int code() {
        return ordinal() + 1;
    }

    public static Transport ofCode(int code) {
        Transport[] all = values();
        if (code < 1 || code > all.length) {
            throw new IllegalArgumentException("unknown transport code " + code);
        }
        return all[code - 1];
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code local|shm|tcp|rdma}, with a message listing them otherwise. */
    public static Transport parse(String s) {
        for (Transport t : values()) {
            if (t.cliName().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transport '" + s + "': use local, shm, tcp or rdma");
    }
}
