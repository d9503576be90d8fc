package io.sourcemesh.api.codec;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown when any document of a manifest set is bad; lists every problem found, one a line. */
public final class ManifestException extends RuntimeException {

    private final List<ManifestProblem> problems;

    public ManifestException(List<ManifestProblem> problems) {
        super(problems.stream().map(ManifestProblem::toString).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<ManifestProblem> problems() {
        return problems;
    }
}
