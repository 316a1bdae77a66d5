"""A receiver: a name and exactly one channel, given under the channel's key.

    - name: oncall-slack
      slack: {webhook_url: "${SLACK_WEBHOOK_URL}"}

The model is built from the channel registry (channels/registry.py): one
optional field per channel, so config errors point into the channel's
settings (``receivers[0].slack.webhook_url``) and the configuration reference
lists every channel. ``receiver.channel`` is the key, ``receiver.settings``
the channel's validated settings, which also know how to deliver.
"""
from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError, ValidationInfo, create_model, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from alerts.notify.channels.base import Channel
from alerts.notify.channels.registry import channels
from core.configmodel import ConfigModel


class ReceiverBase(ConfigModel):
    """A named destination with exactly one channel, written under the channel's key."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$", description="Unique; routes and `default_receivers` name it.")

    # ``Receiver`` below has one optional field per channel registered when it is built. A channel
    # registered later (a plug-in, a test) arrives as an extra key; the validator checks every extra
    # key against the registry, so an unknown key is still an error.
    model_config = ConfigModel.model_config | {"extra": "allow"}

    @model_validator(mode="after")
    def _exactly_one_channel(self, info: ValidationInfo) -> ReceiverBase:
        _validate_late_channels(self.__pydantic_extra__, info.context)
        given = list(self._given())
        if len(given) != 1:
            raise ValueError(f"receiver {self.name!r} needs exactly one of {', '.join(channels())}; "
                             f"got {' and '.join(given) or 'none'}")
        return self

    def _given(self) -> dict[str, Channel]:
        values: dict[str, Any] = {k: getattr(self, k) for k in type(self).model_fields if k != "name"}
        values.update(self.__pydantic_extra__ or {})
        return {k: v for k, v in values.items() if v is not None}

    @property
    def channel(self) -> str:
        """The channel's key: ``slack``, ``email``, ..."""
        return next(iter(self._given()))

    @property
    def settings(self) -> Channel:
        """The channel's settings, which also say how to deliver (see channels/base.py)."""
        return next(iter(self._given().values()))


def _validate_late_channels(extra: dict[str, Any] | None, context: Any) -> None:
    """Validate in place the keys of channels registered after Receiver was built; refuse unknown keys."""
    if not extra:
        return
    registered = channels()
    errors: list[InitErrorDetails] = []
    for key, value in extra.items():
        cls = registered.get(key)
        if cls is None:
            close = difflib.get_close_matches(key, ["name", *registered], n=1)
            hint = (f"did you mean {close[0]!r}?" if close
                    else f"a receiver takes name and one of {', '.join(registered)}")
            message = f"unknown key {key!r} ({hint})"
            errors.append(InitErrorDetails(type=PydanticCustomError("unknown_channel", message), loc=(key,),
                                           input=value))
        elif value is not None:
            try:
                extra[key] = cls.model_validate(value, context=context)
            except ValidationError as exc:
                # Keep each error's type and message, located under the channel's key.
                errors += [InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"]), loc=(key, *e["loc"]),
                                            input=e["input"]) for e in exc.errors()]
    if errors:
        raise ValidationError.from_exception_data("Receiver", errors)


def _receiver_model() -> type[ReceiverBase]:
    fields: dict[str, Any] = {key: (cls | None, Field(None, description=cls.description or None))
                              for key, cls in channels().items()}
    return create_model("Receiver", __base__=ReceiverBase, __module__=__name__, **fields)


if TYPE_CHECKING:
    Receiver = ReceiverBase
else:
    Receiver = _receiver_model()
