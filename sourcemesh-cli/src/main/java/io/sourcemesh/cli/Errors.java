package io.sourcemesh.cli;

import io.sourcemesh.api.codec.ManifestException;
import io.sourcemesh.api.codec.ManifestProblem;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import java.util.stream.Collectors;

/** kubectl's wording for server and manifest errors. */
final class Errors {
    private Errors() {}

    /** The daemon sends the API server's message; kubectl prefixes it with the status reason. */
    static String text(ClusterApiException e) {
        String m = String.valueOf(e.getMessage());
        if (m.startsWith("Error from server") || m.startsWith("error:") || m.startsWith("The ")) {
            return m;
        }
        return switch (e.status()) {
            case 404 -> "Error from server (NotFound): " + m;
            case 409 -> (m.contains("already exists") ? "Error from server (AlreadyExists): " : "Error from server (Conflict): ") + m;
            case 403 -> "Error from server (Forbidden): " + m;
            case 400 -> "Error from server (BadRequest): " + m;
            case 422 -> "Error from server (Invalid): " + m;
            case 500 -> "Error from server (InternalError): " + m;
            default -> "error: " + m;
        };
    }

    /** One line per problem, with its file:line:col, as {@code error: error parsing sleep.yaml:12:7: ...}. */
    static String text(ManifestException e) {
        return e.problems().stream().map(Errors::line).collect(Collectors.joining("\n"));
    }

    private static String line(ManifestProblem p) {
        if (p.message().startsWith("the namespace from the provided object")) {
            return "error: " + p.message();
        }
        if (p.message().startsWith("the path \"")) {
            return "error: " + p.message();
        }
        return "error: error parsing " + p;
    }

    static CliException notFound(ResourceKind kind, String name) {
        return CliException.verbatim("Error from server (NotFound): " + kind.qualifiedPlural() + " \"" + name + "\" not found");
    }

    static CliException unknownKind(String name) {
        return CliException.verbatim("error: the server doesn't have a resource type \"" + name + "\"");
    }

    static ResourceKind kind(String name) {
        return ResourceKind.lookup(name).orElseThrow(() -> unknownKind(name));
    }
}
