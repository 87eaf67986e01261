package io.dmtree.workloads.cn;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The payload a compute node brings to a barrier of a multi-process run: either what the step
 * hands over (its settings at the start, its results at the end), or a refusal saying why this
 * compute node cannot take part any more, so the others stop naming it and the reason instead of
 * waiting for it.
 *
 * <pre>
 *   byte 0        1 ..
 *   +------+---------------------------------------------+
 *   | kind | body: the step's payload (kind 0) or the     |
 *   |      | refusal's reason in UTF-8 (kind 1)           |
 *   +------+---------------------------------------------+
 * </pre>
 */
public final class RunNote {
    /** Offset of the kind byte. */
    static final int KIND_OFFSET = 0;
    /** Offset of the body. */
    static final int BODY_OFFSET = 1;
    static final byte TAKING_PART = 0;
    static final byte REFUSING = 1;
    /** Longest reason carried (UTF-8 bytes); a longer one is cut. */
    public static final int MAX_REASON_BYTES = 4096;

    private RunNote() {
    }

    /** A note carrying {@code payload}: this compute node takes part in the step. */
    public static byte[] takingPart(byte[] payload) {
        byte[] b = new byte[BODY_OFFSET + payload.length];
        b[KIND_OFFSET] = TAKING_PART;
        System.arraycopy(payload, 0, b, BODY_OFFSET, payload.length);
        return b;
    }

    /** A note saying this compute node cannot take part, and why. */
    public static byte[] refusing(String reason) {
        byte[] r = (reason == null || reason.isBlank() ? "no reason given" : reason).getBytes(StandardCharsets.UTF_8);
        r = Arrays.copyOf(r, Math.min(r.length, MAX_REASON_BYTES));
        byte[] b = new byte[BODY_OFFSET + r.length];
        b[KIND_OFFSET] = REFUSING;
        System.arraycopy(r, 0, b, BODY_OFFSET, r.length);
        return b;
    }

    /** Whether {@code note} is a refusal. */
    public static boolean isRefusal(byte[] note) {
        return kind(note) == REFUSING;
    }

    /** The step's payload of a note that takes part. */
    public static byte[] payload(byte[] note) {
        if (kind(note) != TAKING_PART) {
            throw new IllegalArgumentException("the note is a refusal, not a payload");
        }
        return Arrays.copyOfRange(note, BODY_OFFSET, note.length);
    }

    /** The reason of a refusal (a malformed UTF-8 sequence shows as replacement characters). */
    public static String reason(byte[] note) {
        if (kind(note) != REFUSING) {
            throw new IllegalArgumentException("the note takes part; it is no refusal");
        }
        return new String(note, BODY_OFFSET, note.length - BODY_OFFSET, StandardCharsets.UTF_8);
    }

    private static byte kind(byte[] note) {
        if (note == null || note.length < BODY_OFFSET) {
            throw new IllegalArgumentException("an empty barrier note: the compute node runs another version of dmtree");
        }
        byte k = note[KIND_OFFSET];
        if (k != TAKING_PART && k != REFUSING) {
            throw new IllegalArgumentException("a barrier note of unknown kind " + k
                    + ": the compute node runs another version of dmtree");
        }
        return k;
    }
}
