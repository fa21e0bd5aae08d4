package jmlc.engine.tokenizer;

import java.util.Arrays;

/** A growable int array: the ids of one encode call. */
final class IntList {
    private int[] a = new int[32];
    private int size;

    void add(int v) {
        if (size == a.length) a = Arrays.copyOf(a, size * 2);
        a[size++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) add(v);
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(a, size);
    }
}
