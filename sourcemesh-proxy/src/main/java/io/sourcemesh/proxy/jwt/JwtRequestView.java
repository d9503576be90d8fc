package io.sourcemesh.proxy.jwt;

import java.util.List;

/** The parts of a request the verifier reads and changes; the HTTP filter adapts its request to it. */
public interface JwtRequestView {

    /** Every value of a header (lower-case name), in order. */
    List<String> headers(String name);

    void removeHeader(String name);

    void addHeader(String name, String value);

    /** Every value of a query parameter, percent-decoded. */
    List<String> queryParameter(String name);
}
