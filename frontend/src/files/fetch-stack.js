// A tus-js-client HTTP stack over fetch, for the service worker (sw/uploads.js): a worker has no
// XMLHttpRequest, which the library's browser stack uses. fetch reports no upload progress, so a
// request reports its whole body once it is answered (the queue's bar moves chunk by chunk).

class FetchRequest {
  #method;
  #url;
  #headers = {};
  #progress = (_sent) => {};
  #abort = new AbortController();

  constructor(method, url) {
    this.#method = method;
    this.#url = url;
  }

  getMethod() {
    return this.#method;
  }

  getURL() {
    return this.#url;
  }

  setHeader(name, value) {
    this.#headers[name] = value;
  }

  getHeader(name) {
    return this.#headers[name];
  }

  setProgressHandler(handler) {
    this.#progress = handler;
  }

  async send(body = null) {
    const response = await fetch(this.#url, {
      method: this.#method,
      headers: this.#headers,
      body,
      credentials: 'same-origin',
      signal: this.#abort.signal,
    });
    const text = await response.text();
    if (body && typeof body.size === 'number') this.#progress(body.size);
    return new FetchResponse(response, text);
  }

  abort() {
    this.#abort.abort();
    return Promise.resolve();
  }

  getUnderlyingObject() {
    return null;
  }
}

class FetchResponse {
  #response;
  #text;

  constructor(response, text) {
    this.#response = response;
    this.#text = text;
  }

  getStatus() {
    return this.#response.status;
  }

  getHeader(name) {
    return this.#response.headers.get(name) ?? undefined;
  }

  getBody() {
    return this.#text;
  }

  getUnderlyingObject() {
    return this.#response;
  }
}

export class FetchHttpStack {
  createRequest(method, url) {
    return new FetchRequest(method, url);
  }

  getName() {
    return 'FetchHttpStack';
  }
}
