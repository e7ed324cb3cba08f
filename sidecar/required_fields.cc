#include "sidecar/required_fields.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "flatbuffers/reflection.h"
#include "sidecar/routing_bfbs_generated.h"

namespace routing::sidecar {
namespace {

// "routing.sidecar.wire.RouteContact" -> "RouteContact".
std::string ShortName(const flatbuffers::String* name) {
  const std::string full = name->str();
  const size_t dot = full.rfind('.');
  return dot == std::string::npos ? full : full.substr(dot + 1);
}

class RequiredFieldWalk {
 public:
  RequiredFieldWalk(const uint8_t* data, size_t size,
                    const flatbuffers::Verifier::Options& options)
      : schema_(reflection::GetSchema(wire::RequestBinarySchema::data())),
        verifier_(data, size, options) {}

  std::optional<std::string> Run(const uint8_t* data) {
    const flatbuffers::uoffset_t root = verifier_.VerifyOffset(0);
    if (root == 0) return std::nullopt;
    const auto* table = reinterpret_cast<const flatbuffers::Table*>(data + root);
    Table(*table, *schema_->root_table(), ShortName(schema_->root_table()->name()),
          /*is_root=*/true);
    return missing_;
  }

 private:
  // Walks one table; false when the walk must stop (a missing field found, or
  // a part of the buffer that does not verify).
  bool Table(const flatbuffers::Table& table, const reflection::Object& object,
             const std::string& path, bool is_root) {
    if (!table.VerifyTableStart(verifier_)) return false;
    // The schema lists fields by name; declaration order is by id.
    std::vector<const reflection::Field*> fields(object.fields()->begin(),
                                                 object.fields()->end());
    std::sort(fields.begin(), fields.end(),
              [](const reflection::Field* a, const reflection::Field* b) {
                return a->id() < b->id();
              });
    bool go_on = true;
    for (const reflection::Field* field : fields) {
      go_on = Field(table, object, *field, path, is_root);
      if (!go_on) break;
    }
    verifier_.EndTable();
    return go_on;
  }

  bool Field(const flatbuffers::Table& table, const reflection::Object& object,
             const reflection::Field& field, const std::string& path,
             bool is_root) {
    const reflection::BaseType type = field.type()->base_type();
    const bool offset_field = type == reflection::String ||
                              type == reflection::Vector ||
                              type == reflection::Obj ||
                              type == reflection::Union;
    if (!offset_field) return true;  // Scalars and structs: nothing required.
    if (type == reflection::Obj &&
        schema_->objects()->Get(field.type()->index())->is_struct()) {
      return true;
    }
    const std::string name = absl::StrCat(path, ".", field.name()->str());
    if (!table.CheckField(field.offset())) {
      if (!field.required()) return true;
      missing_ = name;
      return false;
    }
    if (!table.VerifyOffset(verifier_, field.offset())) return false;
    switch (type) {
      case reflection::Obj:
        return Table(*table.GetPointer<const flatbuffers::Table*>(field.offset()),
                     *schema_->objects()->Get(field.type()->index()), name,
                     /*is_root=*/false);
      case reflection::Vector:
        return VectorOfTables(table, field, name);
      case reflection::Union:
        return UnionMember(table, object, field, name, is_root);
      default:
        return true;  // A string holds no fields.
    }
  }

  bool VectorOfTables(const flatbuffers::Table& table,
                      const reflection::Field& field, const std::string& name) {
    if (field.type()->element() != reflection::Obj) return true;
    const reflection::Object* element =
        schema_->objects()->Get(field.type()->index());
    if (element->is_struct()) return true;
    const auto* vector = table.GetPointer<
        const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>*>(
        field.offset());
    if (!verifier_.VerifyVector(vector)) return false;
    for (flatbuffers::uoffset_t i = 0; i < vector->size(); ++i) {
      // Each element is an offset to its table: checked before it is followed.
      const uint8_t* slot =
          vector->Data() + i * sizeof(flatbuffers::uoffset_t);
      if (verifier_.VerifyOffset(slot, 0) == 0) return false;
      if (!Table(*vector->Get(i), *element, absl::StrCat(name, "[", i, "]"),
                 /*is_root=*/false)) {
        return false;
      }
    }
    return true;
  }

  // The member is named by its table: "RouteContact.contact", not
  // "Request.body.contact", as a client names the request it sent.
  bool UnionMember(const flatbuffers::Table& table,
                   const reflection::Object& object,
                   const reflection::Field& field, const std::string& name,
                   bool is_root) {
    // flatc declares a union's type field `<name>_type` just before it.
    const reflection::Field* type_field = nullptr;
    for (const reflection::Field* f : *object.fields()) {
      if (f->id() + 1 == field.id() &&
          f->type()->base_type() == reflection::UType) {
        type_field = f;
      }
    }
    if (type_field == nullptr ||
        !table.VerifyField<uint8_t>(verifier_, type_field->offset(), 1)) {
      return false;
    }
    const uint8_t member = table.GetField<uint8_t>(type_field->offset(), 0);
    const reflection::Enum* members = schema_->enums()->Get(field.type()->index());
    for (const reflection::EnumVal* value : *members->values()) {
      if (value->value() != member || value->union_type() == nullptr ||
          value->union_type()->base_type() != reflection::Obj) {
        continue;
      }
      const reflection::Object* member_object =
          schema_->objects()->Get(value->union_type()->index());
      const std::string member_path =
          is_root ? ShortName(member_object->name())
                  : absl::StrCat(name, "(", ShortName(member_object->name()),
                                 ")");
      return Table(*table.GetPointer<const flatbuffers::Table*>(field.offset()),
                   *member_object, member_path, /*is_root=*/false);
    }
    return true;  // A member this schema does not know: nothing to name.
  }

  const reflection::Schema* schema_;
  flatbuffers::Verifier verifier_;
  std::optional<std::string> missing_;
};

}  // namespace

std::optional<std::string> FirstMissingRequiredField(
    const uint8_t* data, size_t size,
    const flatbuffers::Verifier::Options& options) {
  if (data == nullptr || size < sizeof(flatbuffers::uoffset_t)) {
    return std::nullopt;
  }
  return RequiredFieldWalk(data, size, options).Run(data);
}

}  // namespace routing::sidecar
