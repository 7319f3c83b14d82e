#pragma once
// A checker of real responses against docs/openapi.yaml (as served, JSON): finds the operation's
// response for a status and validates the body against its schema. The JSON-Schema subset the
// document uses: type (a name or a list, so "null" makes a field nullable), properties, required,
// additionalProperties, items, enum, const, oneOf, anyOf, minimum, maximum, pattern, and $ref into
// the document. Any other keyword that is not an annotation is reported as an error, so the
// document cannot silently use what this checker does not check.

#include <boost/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace lockbox::testing {

class OpenApi {
 public:
  explicit OpenApi(boost::json::value document);

  // Every operation of the document, "METHOD /path/template".
  [[nodiscard]] std::set<std::string> operations() const;

  // The problems of one answer of operation (method, path template): the status must be one of
  // its documented responses, its Content-Type (parameters aside) one of that response's media
  // types when content_type is not empty, and a JSON body must match the schema. Empty: valid.
  [[nodiscard]] std::vector<std::string> check(const std::string& method, const std::string& path,
                                               int status, const std::string& body,
                                               const std::string& content_type = {}) const;

  // The problems of `value` against `schema` (a schema of this document), at `where`.
  void validate(const boost::json::value& schema, const boost::json::value& value,
                const std::string& where, std::vector<std::string>& problems) const;

 private:
  const boost::json::value& resolve(const boost::json::value& node) const;
  // required, properties and additionalProperties of an object schema.
  void validate_object(const boost::json::object& schema, const boost::json::object& value,
                       const std::string& where, std::vector<std::string>& problems) const;
  boost::json::value doc_;
};

}  // namespace lockbox::testing
