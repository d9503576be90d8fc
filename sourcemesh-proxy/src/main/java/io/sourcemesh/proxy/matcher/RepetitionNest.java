package io.sourcemesh.proxy.matcher;

import java.util.ArrayDeque;

/**
 * RE2's limit on nested counted repetitions (RepetitionWalker in {@code re2/parse.cc}): along any
 * nesting, the counts of {@code {n}}, {@code {n,}} and {@code {n,m}} (the larger bound, or n when
 * open) multiplied may not pass the limit — {@code (a{100}){100}} is 10,000 copies of {@code a} and
 * refused, {@code (a{10}){100}} is not. RE2/J has no such check, so this scan of a regex RE2/J has
 * already parsed gives it; it knows RE2's tokens only as far as finding atoms, groups and counts
 * requires.
 */
final class RepetitionNest {
    private RepetitionNest() {}

    /** One open group: the largest product among its atoms so far, and the product of the atom just read. */
    private static final class Group {
        long widest = 1;
        long last = 1;
    }

    /** The repetition (as written, e.g. {@code {100}}) whose nest passes {@code limit}; null when none does. */
    static String excess(String re, int limit) {
        ArrayDeque<Group> open = new ArrayDeque<>();
        Group top = new Group();
        int i = 0;
        int n = re.length();
        while (i < n) {
            char c = re.charAt(i);
            switch (c) {
                case '\\' -> {
                    i = escapeEnd(re, i);
                    top.last = 1;
                }
                case '[' -> {
                    i = classEnd(re, i);
                    top.last = 1;
                }
                case '(' -> {
                    int groupStart = groupStart(re, i);
                    if (groupStart < 0) {
                        i = re.indexOf(')', i) + 1; // (?flags): no group
                    } else {
                        open.push(top);
                        top = new Group();
                        i = groupStart;
                    }
                }
                case ')' -> {
                    long inner = top.widest;
                    top = open.pop();
                    top.last = inner;
                    top.widest = Math.max(top.widest, inner);
                    i++;
                }
                case '|', '*', '+', '?' -> i++; // '?' also ends a lazy repetition; neither multiplies
                case '{' -> {
                    int end = countEnd(re, i);
                    if (end < 0) {
                        top.last = 1; // a literal '{'
                        i++;
                        break;
                    }
                    int count = count(re, i + 1, end);
                    if (count > 0) {
                        top.last *= count;
                        if (top.last > limit) {
                            return re.substring(i, end + 1);
                        }
                        top.widest = Math.max(top.widest, top.last);
                    }
                    i = end + 1;
                }
                default -> {
                    top.last = 1;
                    i++;
                }
            }
        }
        return null;
    }

    /** Past an escape: \Q…\E, \p{…}, \x{…}, or the backslash and one char (octal digits after it are atoms of their own, which changes no count). */
    private static int escapeEnd(String re, int i) {
        if (i + 1 >= re.length()) {
            return re.length();
        }
        char e = re.charAt(i + 1);
        if (e == 'Q') {
            int end = re.indexOf("\\E", i + 2);
            return end < 0 ? re.length() : end + 2;
        }
        if ((e == 'p' || e == 'P' || e == 'x') && i + 2 < re.length() && re.charAt(i + 2) == '{') {
            return re.indexOf('}', i + 3) + 1;
        }
        return i + 2;
    }

    /** Past a character class: a ']' first is a member, [:name:] a POSIX class, escapes as outside. */
    private static int classEnd(String re, int i) {
        int j = i + 1;
        if (j < re.length() && re.charAt(j) == '^') {
            j++;
        }
        boolean first = true;
        while (j < re.length() && (re.charAt(j) != ']' || first)) {
            first = false;
            if (re.startsWith("[:", j) && re.indexOf(":]", j + 2) > 0) {
                j = re.indexOf(":]", j + 2) + 2;
            } else if (re.charAt(j) == '\\') {
                j = escapeEnd(re, j);
            } else {
                j++;
            }
        }
        return j + 1;
    }

    /** Where a group's contents begin; -1 for (?flags), which opens none. */
    private static int groupStart(String re, int i) {
        if (!re.startsWith("(?", i)) {
            return i + 1;
        }
        if (re.startsWith("(?P<", i) || re.startsWith("(?<", i)) {
            return re.indexOf('>', i) + 1;
        }
        for (int j = i + 2; j < re.length(); j++) {
            if (re.charAt(j) == ':') {
                return j + 1;
            }
            if (re.charAt(j) == ')') {
                return -1;
            }
        }
        return re.length();
    }

    /** The '}' of a counted repetition at {@code i} ({n}, {n,}, {n,m}); -1 when the '{' is a literal (RE2's MaybeParseRepetition). */
    private static int countEnd(String re, int i) {
        int j = i + 1;
        int digits = j;
        while (j < re.length() && re.charAt(j) >= '0' && re.charAt(j) <= '9') {
            j++;
        }
        if (j == digits || j >= re.length()) {
            return -1;
        }
        if (re.charAt(j) == ',') {
            j++;
            while (j < re.length() && re.charAt(j) >= '0' && re.charAt(j) <= '9') {
                j++;
            }
        }
        return j < re.length() && re.charAt(j) == '}' ? j : -1;
    }

    /** The count a repetition divides RE2's budget by: its upper bound, or its lower when open. */
    private static int count(String re, int from, int end) {
        String body = re.substring(from, end);
        int comma = body.indexOf(',');
        String bound = comma < 0 ? body : comma == body.length() - 1 ? body.substring(0, comma) : body.substring(comma + 1);
        try {
            return Integer.parseInt(bound);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE; // RE2/J already refused a count past 1,000
        }
    }
}
