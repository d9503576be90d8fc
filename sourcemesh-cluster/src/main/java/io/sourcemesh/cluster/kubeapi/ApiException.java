package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.sourcemesh.api.resource.FieldError;
import java.util.List;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.patch.PatchException;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.store.StoreException;

/**
 * A refused request as the API server answers it: an HTTP code and a {@code Status} object whose
 * reason kubectl prints ({@code Error from server (NotFound): pods "x" not found}).
 */
final class ApiException extends RuntimeException {
    private final int code;
    private final String reason;
    private final String kind;
    private final String name;
    private final List<FieldError> causes;

    ApiException(int code, String reason, String message) {
        this(code, reason, message, null, null);
    }

    ApiException(int code, String reason, String message, String kind, String name) {
        this(code, reason, message, kind, name, List.of());
    }

    ApiException(int code, String reason, String message, String kind, String name, List<FieldError> causes) {
        super(message);
        this.code = code;
        this.reason = reason;
        this.kind = kind;
        this.name = name;
        this.causes = causes;
    }

    int code() {
        return code;
    }

    static ApiException notFound(String plural, String name) {
        return new ApiException(404, "NotFound", plural + " \"" + name + "\" not found", plural, name);
    }

    static ApiException badRequest(String message) {
        return new ApiException(400, "BadRequest", message);
    }

    /** A server-side apply conflict: one cause per field, reason FieldManagerConflict, as apimachinery's NewApplyConflict. */
    static ApiException applyConflict(String message, List<FieldError> causes) {
        return new ApiException(409, "Conflict", message, null, null, causes);
    }

    static ApiException methodNotAllowed(String message) {
        return new ApiException(405, "MethodNotAllowed", message);
    }

    /** The API server's answer for what the store or the cluster refused. */
    static ApiException of(RuntimeException e) {
        if (e instanceof ApiException a) {
            return a;
        }
        if (e instanceof StoreException s) {
            return switch (s.reason()) {
                case NOT_FOUND -> new ApiException(404, "NotFound", s.getMessage());
                case ALREADY_EXISTS -> new ApiException(409, "AlreadyExists", s.getMessage());
                case CONFLICT -> new ApiException(409, "Conflict", s.getMessage());
                // kubectl prints an Invalid Status from its details: "The Service "x" is invalid: <field>: <message>".
                case INVALID -> new ApiException(422, "Invalid", s.getMessage(), s.kind().orElse(null), s.name().orElse(null), s.causes());
                case FORBIDDEN -> new ApiException(403, "Forbidden", s.getMessage());
            };
        }
        if (e instanceof ClusterApiException c) {
            return new ApiException(c.status(), reasonFor(c.status()), withoutKubectlPrefix(c.getMessage()));
        }
        if (e instanceof PatchException p) {
            return new ApiException(422, "Invalid", p.getMessage());
        }
        if (e instanceof IllegalArgumentException) {
            return badRequest(e.getMessage());
        }
        return new ApiException(500, "InternalError", "Internal error occurred: " + e);
    }

    private static String reasonFor(int code) {
        return switch (code) {
            case 400 -> "BadRequest";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "NotFound";
            case 405 -> "MethodNotAllowed";
            case 409 -> "Conflict";
            case 410 -> "Expired";
            case 413 -> "RequestEntityTooLarge";
            case 415 -> "UnsupportedMediaType";
            case 422 -> "Invalid";
            case 503 -> "ServiceUnavailable";
            default -> code >= 500 ? "InternalError" : "BadRequest";
        };
    }

    /** The daemon's messages are what our CLI prints; the Status carries only what follows kubectl's prefix. */
    private static String withoutKubectlPrefix(String message) {
        String m = message == null ? "" : message;
        if (m.startsWith("Error from server (")) {
            int close = m.indexOf("): ");
            return close < 0 ? m : m.substring(close + 3);
        }
        return m.startsWith("error: ") ? m.substring(7) : m;
    }

    /** The {@code Status} object. */
    ObjectNode status() {
        ObjectNode s = status(code, reason, getMessage(), kind, name);
        if (!causes.isEmpty()) {
            ArrayNode arr = s.withObjectProperty("details").putArray("causes");
            for (FieldError e : causes) {
                String prefix = e.path() + ": ";
                String message = e.message().startsWith(prefix) ? e.message().substring(prefix.length()) : e.message();
                String causeReason = reason.equals("Conflict") ? "FieldManagerConflict"
                        : message.startsWith("Required value") ? "FieldValueRequired" : "FieldValueInvalid";
                arr.addObject().put("reason", causeReason)
                        .put("message", message).put("field", e.path());
            }
        }
        return s;
    }

    static ObjectNode status(int code, String reason, String message, String kind, String name) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("kind", "Status").put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Failure").put("message", message).put("reason", reason);
        if (kind != null || name != null) {
            ObjectNode d = s.putObject("details");
            if (name != null) {
                d.put("name", name);
            }
            if (kind != null) {
                d.put("kind", kind);
            }
        }
        s.put("code", code);
        return s;
    }
}
