package io.sourcemesh.api.resource;

/**
 * One validation failure: the field's path ({@code spec.template.spec.containers[0].image}) and the full
 * message in the API server's wording.
 */
public record FieldError(String path, String message) {

    @Override
    public String toString() {
        return message;
    }
}
