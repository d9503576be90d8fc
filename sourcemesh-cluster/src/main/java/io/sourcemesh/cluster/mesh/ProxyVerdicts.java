package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * The proxies' answers to the push that carried one piece of config (an EnvoyFilter, a Gateway),
 * written into its status: every selected proxy under {@code status.proxies} with its state, one
 * validation message per proxy that refused it or has not answered, and the Reconciled condition —
 * True only when every selected proxy ACKed.
 */
public record ProxyVerdicts(List<ProxyAnswer> answers) {

    public ProxyVerdicts {
        answers = List.copyOf(answers);
    }

    public static ProxyVerdicts of(List<String> nodeIds, Function<String, ProxyAnswer> answer) {
        return new ProxyVerdicts(nodeIds.stream().map(answer).sorted(Comparator.comparing(ProxyAnswer::proxy)).toList());
    }

    public long count(ProxyAnswer.State state) {
        return answers.stream().filter(a -> a.state() == state).count();
    }

    /** Writes the Reconciled condition for config that translated and patched cleanly. */
    public void condition(ObjectNode condition) {
        long nacked = count(ProxyAnswer.State.NACKED);
        long pending = count(ProxyAnswer.State.PENDING);
        long acked = count(ProxyAnswer.State.ACKED);
        String upToDate = acked + "/" + answers.size() + " proxies up to date";
        condition.put("type", "Reconciled");
        if (nacked > 0) {
            condition.put("status", "False").put("reason", "Rejected").put("message", upToDate + "; " + nacked
                    + " rejected the push carrying it and keep their last good config");
        } else if (pending > 0) {
            condition.put("status", "Unknown").put("reason", "Pending").put("message", upToDate + "; " + pending + " not answered yet");
        } else if (answers.isEmpty()) {
            condition.put("status", "True").put("reason", "NoProxies").put("message", "no running proxy is selected");
        } else {
            condition.put("status", "True").put("reason", "Applied").put("message", upToDate);
        }
    }

    /** Adds the per-proxy messages and the {@code proxies} list. */
    public void details(ObjectNode status) {
        ArrayNode messages = status.withArray("validationMessages");
        ArrayNode proxies = status.putArray("proxies");
        for (ProxyAnswer a : answers) {
            ObjectNode p = proxies.addObject().put("name", a.proxy()).put("state", a.state().name());
            if (!a.detail().isEmpty()) {
                p.put("detail", a.detail());
            }
            switch (a.state()) {
                case NACKED -> messages.addObject().put("level", "ERROR").put("type", "ProxyRejected")
                        .put("description", a.proxy() + " rejected the push carrying it (" + a.detail() + ")");
                case PENDING -> messages.addObject().put("level", "INFO").put("type", "ProxyPending")
                        .put("description", a.proxy() + " has not answered the push carrying it yet");
                case ACKED -> { }
            }
        }
        if (messages.isEmpty()) {
            status.remove("validationMessages");
        }
    }

    /** {@code 1/2 ACKED, 1 NACKED}: the get column. */
    public static String summary(JsonNode proxies) {
        long acked = 0, nacked = 0, pending = 0;
        for (var p : proxies) {
            switch (p.path("state").asText()) {
                case "ACKED" -> acked++;
                case "NACKED" -> nacked++;
                default -> pending++;
            }
        }
        return acked + "/" + proxies.size() + " ACKED" + (nacked > 0 ? ", " + nacked + " NACKED" : "")
                + (pending > 0 ? ", " + pending + " PENDING" : "");
    }
}
