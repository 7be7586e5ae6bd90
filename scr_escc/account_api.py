"""API of accounts: the data manager's user administration and everyone's own password."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from scr_escc import accounts
from scr_escc.api import has_perm
from scr_escc.models import Role, Site, User

MANAGE = accounts.MANAGE_USERS


class UserSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    sites = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Site.objects.all(), required=False)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "sites",
            "is_active",
            "must_change_password",
            "last_login",
        ]
        read_only_fields = ["is_active", "must_change_password", "last_login"]


class UserChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    sites = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Site.objects.all(), required=False)
    reason = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class UserListCreate(generics.ListCreateAPIView):
    permission_classes = [has_perm(MANAGE)]
    serializer_class = UserSerializer
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return User.objects.prefetch_related("groups", "sites").order_by("username")

    @extend_schema(
        responses={
            201: inline_serializer(
                "UserCreated", {"user": UserSerializer(), "temporary_password": serializers.CharField()}
            )
        }
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user, password = accounts.invite_user(
            by=request.user,
            username=data["username"],
            role=data["role"],
            sites=data.get("sites", []),
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
        )
        body = {"user": UserSerializer(user).data, "temporary_password": password}
        return Response(body, status=status.HTTP_201_CREATED)


class UserDetail(APIView):
    permission_classes = [has_perm(MANAGE)]

    @extend_schema(responses=UserSerializer)
    def get(self, request, pk):
        return Response(UserSerializer(generics.get_object_or_404(User, pk=pk)).data)

    @extend_schema(
        request=UserChangeSerializer, responses=UserSerializer, summary="Change role and sites (with a reason)"
    )
    def patch(self, request, pk):
        user = generics.get_object_or_404(User, pk=pk)
        serializer = UserChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = accounts.change_role_and_sites(
            by=request.user, user=user, role=data["role"], sites=data.get("sites", []), reason=data["reason"]
        )
        return Response(UserSerializer(user).data)


class UserAction(APIView):
    """POST {"reason"}: deactivate (signed out everywhere at once) or reset the password."""

    permission_classes = [has_perm(MANAGE)]
    action = ""

    @extend_schema(request=ReasonSerializer, responses=UserSerializer)
    def post(self, request, pk):
        user = generics.get_object_or_404(User, pk=pk)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        if self.action == "reset_password":
            password = accounts.reset_password(by=request.user, user=user, reason=reason)
            return Response({"user": UserSerializer(user).data, "temporary_password": password})
        user = accounts.set_active(by=request.user, user=user, active=self.action == "reactivate", reason=reason)
        return Response(UserSerializer(user).data)


class PasswordSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False)
    new_password = serializers.CharField(trim_whitespace=False)


class ChangePassword(APIView):
    @extend_schema(request=PasswordSerializer, responses={204: None}, summary="Change my password (revokes my tokens)")
    def post(self, request):
        serializer = PasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accounts.change_own_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
