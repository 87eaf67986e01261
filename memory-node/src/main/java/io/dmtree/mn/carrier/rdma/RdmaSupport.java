package io.dmtree.mn.carrier.rdma;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether this host can run the {@code rdma} carrier, and if not, what is missing and how to get
 * it. Checked before any DiSNI class that needs the native library is touched, so
 * {@code --transport rdma} stops at once with a clear message instead of an
 * {@link UnsatisfiedLinkError} deep in a stack trace.
 */
public final class RdmaSupport {
    /** Where the kernel lists RDMA devices (hardware NICs and soft-RDMA links alike). */
    public static final String DEVICE_DIRECTORY = "/sys/class/infiniband";

    private RdmaSupport() {
    }

    /** Null when the rdma carrier can start here; otherwise a message naming every missing piece. */
    public static String missing() {
        return missing(new File(DEVICE_DIRECTORY), RdmaSupport::loadDisni);
    }

    /** Testable form: the device directory and the library loader are given. */
    static String missing(File deviceDirectory, LibraryLoader loader) {
        List<String> problems = new ArrayList<>();
        String[] devices = deviceDirectory.list();
        if (devices == null || devices.length == 0) {
            problems.add("no RDMA device: " + deviceDirectory + " is " + (devices == null ? "absent" : "empty")
                    + ". Use a host with an RDMA NIC, or add a soft-RDMA device over an Ethernet interface: "
                    + "`sudo modprobe rdma_rxe && sudo rdma link add rxe0 type rxe netdev eth0` "
                    + "(or `modprobe siw && rdma link add siw0 type siw netdev eth0`), then check `ibv_devices`.");
        }
        String loadError = loader.load();
        if (loadError != null) {
            problems.add("the native DiSNI library libdisni is not loadable (" + loadError + "). Build it from "
                    + "https://github.com/zrlio/disni (tag v2.1): `cd libdisni && ./autoprepare.sh && "
                    + "./configure --with-jdk=$JAVA_HOME && make && sudo make install` (needs libibverbs-dev and "
                    + "librdmacm-dev), then start with -Djava.library.path=/usr/local/lib or LD_LIBRARY_PATH=/usr/local/lib.");
        }
        if (problems.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder("the rdma transport cannot start on this host:");
        for (String p : problems) {
            b.append("\n  - ").append(p);
        }
        return b.append("\nOther transports (shm on one host, tcp across hosts) need none of this.").toString();
    }

    /** Tries to load a native library; returns null on success, else the reason. */
    @FunctionalInterface
    interface LibraryLoader {
        String load();
    }

    private static String loadDisni() {
        try {
            System.loadLibrary("disni");
            return null;
        } catch (UnsatisfiedLinkError e) {
            return e.getMessage();
        } catch (SecurityException e) {
            return e.getMessage();
        }
    }
}
