package io.dmtree.core.wire;

import java.net.InetSocketAddress;

/** Parses and prints {@code HOST:PORT} (IPv6 hosts in brackets), with messages naming the option. */
public final class HostPort {
    private HostPort() {
    }

    public static InetSocketAddress parse(String what, String value) {
        int colon = value == null ? -1 : value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(what + " must be HOST:PORT, not '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": bad port in '" + value + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + ": port out of range in '" + value + "'");
        }
        return new InetSocketAddress(host, port);
    }

    public static String format(InetSocketAddress a) {
        String h = a.getHostString();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }
}
