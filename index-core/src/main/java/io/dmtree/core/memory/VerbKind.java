package io.dmtree.core.memory;

/** The four one-sided verbs every carrier offers. */
public enum VerbKind {
    READ, WRITE, CAS, FAA
}
