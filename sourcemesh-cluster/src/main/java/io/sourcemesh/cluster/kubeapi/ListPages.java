package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A list in pages ({@code limit}, {@code continue}), as kube-apiserver pages one: objects in
 * namespace/name order, each page after the last key of the one before, all as of the first page's
 * resourceVersion. The continue token is opaque to clients; like kube-apiserver's it is base64 JSON
 * of that version and the last key ({@code {"v":"meta.k8s.io/v1","rv":N,"start":"ns\u0000name"}}),
 * and a version of -1 continues inconsistently (from the current objects), which the 410 for an
 * expired token offers.
 */
final class ListPages {
    private static final String VERSION = "meta.k8s.io/v1";
    static final Comparator<KubeObject> ORDER = Comparator.comparing(KubeObject::namespace).thenComparing(KubeObject::name);
    static final String EXPIRED = "The provided continue parameter is too old to display a consistent list result. You can start a new "
            + "list without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
            + "results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, "
            + "or deleted between the time the first chunk was returned and now may show up in the list.";

    /** Where a continued list resumes: as of {@code resourceVersion} (-1: now), after the key {@code start}. */
    record Token(long resourceVersion, String start) {
        String encode() {
            ObjectNode t = KubeApiHandler.JSON.createObjectNode();
            t.put("v", VERSION).put("rv", resourceVersion).put("start", start);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(t.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    /** One page: its objects, the token for the next (null on the last), how many objects follow it (null when not counted). */
    record Page(List<KubeObject> items, String continueToken, Long remainingItemCount) {}

    private ListPages() {}

    /** The {@code limit} query parameter: 0 (or absent) is everything. */
    static int limit(Map<String, List<String>> q) {
        String l = Resources.param(q, "limit");
        if (l == null || l.isEmpty()) {
            return 0;
        }
        try {
            return Math.max(0, Integer.parseInt(l));
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid limit \"" + l + "\"");
        }
    }

    /** The {@code continue} token, decoded; 400 for one this server did not write. */
    static Token parse(String token) {
        try {
            JsonNode t = KubeApiHandler.JSON.readTree(Base64.getUrlDecoder().decode(token.replace('+', '-').replace('/', '_')));
            if (!VERSION.equals(t.path("v").asText()) || !t.path("rv").canConvertToLong() || !t.path("start").isTextual()) {
                throw new IOException("not a continue token");
            }
            long rv = t.path("rv").asLong();
            if (rv < -1 || rv == 0) {
                throw new IOException("bad resourceVersion " + rv);
            }
            return new Token(rv, t.path("start").asText());
        } catch (IOException | IllegalArgumentException e) {
            throw ApiException.badRequest("continue key is not valid: " + e.getMessage());
        }
    }

    static String key(KubeObject o) {
        return o.namespace() + "\0" + o.name();
    }

    /**
     * The page of {@code objects} (any order) after {@code after} (null: from the start), at most
     * {@code limit} long (0: all), at {@code resourceVersion}; the rest is counted when {@code count}.
     */
    static Page page(List<KubeObject> objects, String after, int limit, long resourceVersion, boolean count) {
        List<KubeObject> sorted = new ArrayList<>(objects);
        sorted.sort(ORDER);
        int from = 0;
        if (after != null) {
            while (from < sorted.size() && key(sorted.get(from)).compareTo(after) <= 0) {
                from++;
            }
        }
        List<KubeObject> rest = sorted.subList(from, sorted.size());
        if (limit <= 0 || rest.size() <= limit) {
            return new Page(List.copyOf(rest), null, null);
        }
        List<KubeObject> items = List.copyOf(rest.subList(0, limit));
        String next = new Token(resourceVersion, key(items.getLast())).encode();
        return new Page(items, next, count ? (long) (rest.size() - limit) : null);
    }
}
