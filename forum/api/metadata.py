"""What ``OPTIONS`` answers on every API URL.

DRF's default metadata describes the view's serializer field by field, recursing
into nested serializers; a serializer that contains itself (a thread's comment and
its ``replies``) recursed without end (``RecursionError``, a 500). The API's shapes
are documented once, in the OpenAPI document (``/api/schema/``), so ``OPTIONS``
names the view, what it renders and parses, and the allowed methods (``Allow``
header), and introspects nothing.
"""

from rest_framework.metadata import BaseMetadata


class SimpleMetadata(BaseMetadata):
    def determine_metadata(self, request, view) -> dict:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/api/schema/",
        }
