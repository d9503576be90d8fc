package io.sourcemesh.proxy.xds;

/** A response the client cannot even decode; it is NACKed without reaching the handler. */
final class InvalidResourceException extends Exception {

    InvalidResourceException(String message) {
        super(message);
    }
}
