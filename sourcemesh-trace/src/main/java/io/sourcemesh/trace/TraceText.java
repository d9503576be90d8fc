package io.sourcemesh.trace;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.List;

/** A trace as the terminal shows it (one row per hop, then the loss, its reason and fixes) or as JSON ({@code -o json}). */
public final class TraceText {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TraceText() {
    }

    public static String json(List<Trace> traces) {
        try {
            return JSON.writeValueAsString(traces.size() == 1 ? traces.getFirst() : traces) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String text(Trace t) {
        StringBuilder b = new StringBuilder();
        b.append("TRACE ").append(t.title()).append("\n").append("client address: ").append(t.client()).append("\n\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"#", "HOP", "SEES ON SOCKET", "X-FORWARDED-FOR IN", "BELIEVES CLIENT", "CLIENT KNOWN", "PASSES (SOCKET / XFF)",
                "OBSERVED"});
        for (int i = 0; i < t.hops().size(); i++) {
            Hop h = t.hops().get(i);
            String known = h.known() ? "kept" : "LOST";
            if (h.lostHere()) {
                known = "kept → LOST HERE";
            }
            String observed = h.observed() == null ? "" : observedText(h.observed());
            rows.add(new String[] {String.valueOf(i + 1), h.name(), h.seesOnSocket(), dash(h.xffIn()), h.believes(), known,
                    h.component().equals("app") ? "-" : h.passesSocket() + " / " + dash(h.xffOut()), observed});
        }
        b.append(table(rows));
        b.append("\n");
        if (t.kept()) {
            b.append("RESULT: the client's address ").append(t.client()).append(" is kept to the app.\n");
        } else {
            Hop lost = t.hops().get(t.lostAt());
            b.append("RESULT: the client's address ").append(t.client()).append(" is LOST at hop ").append(t.lostAt() + 1).append(" (")
                    .append(lost.name()).append(").\n");
            if (lost.reason() != null) {
                b.append("WHY: ").append(lost.reason()).append("\n");
            }
            for (int i = 0; i < lost.fixes().size(); i++) {
                b.append(i == 0 ? "FIX: " : "OR:  ").append(lost.fixes().get(i).replace("\n", "\n     ")).append("\n");
            }
        }
        for (Hop h : t.hops()) {
            for (String e : h.evidence()) {
                b.append("  config ").append(h.component()).append(": ").append(e).append("\n");
            }
        }
        for (String w : t.warnings()) {
            b.append("WARNING: ").append(w).append("\n");
        }
        List<String> mismatches = t.mismatches();
        if (t.hops().stream().anyMatch(h -> h.observed() != null)) {
            b.append(mismatches.isEmpty() ? "OBSERVED: every hop's access-log line matches the prediction.\n" : "");
            mismatches.forEach(m -> b.append("MISMATCH: ").append(m).append("\n"));
        }
        return b.toString();
    }

    static String observedText(Hop.Observed o) {
        List<String> parts = new ArrayList<>();
        if (o.note() != null) {
            parts.add(o.note());
        }
        if (o.downstreamRemote() != null) {
            parts.add("downstream_remote " + o.downstreamRemote());
        }
        if (o.upstreamLocal() != null) {
            parts.add("upstream_local " + o.upstreamLocal());
        }
        if (o.xff() != null) {
            parts.add("xff " + o.xff());
        }
        return String.join(", ", parts) + (o.mismatches().isEmpty() ? "" : "  <-- MISMATCH");
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    private static String table(List<String[]> rows) {
        int[] w = new int[rows.getFirst().length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(r[i]);
                if (i < r.length - 1) {
                    line.append(" ".repeat(w[i] - r[i].length() + 3));
                }
            }
            b.append(line.toString().stripTrailing()).append("\n");
        }
        return b.toString();
    }
}
